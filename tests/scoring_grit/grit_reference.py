"""vbench's detectron2 GRiT on the golden frames, instrumented to record each decision's margin.

Side environment only (detectron2): scripts/grit_golden.py and the `grit`-marked equality tests
use it. `ReferenceGrit(checkpoint, task)` is vbench's `DenseCaptioning` loaded through the
project's `GritDetector` (weights_only loads); `run(frame)` returns what vbench reads (its
`dense_pred_to_caption_tuple`), the float boxes and scores, the decoded token ids of both text
passes, and the margins of every decision on the way:
  * `candidate`: CenterNet's sigmoid heatmap against INFERENCE_TH (1e-4), in logit units;
  * `proposal_topk`: the gap at the per-level top-1000 and the post-NMS k-th value (256) cuts,
    counted only where the score at the cut is at least 0.25: a proposal scoring p ends with a
    detection score of at most sqrt(p) (the cascade's class probability is at most 1), so below
    0.25 no proposal near the cut can pass 0.5 whichever side of it rounding puts it;
  * `proposal_nms`: IoU against 0.9 for each pair greedy NMS compares (a kept box with a box
    still alive below it);
  * `score`: each candidate's cascade score against the 0.5 threshold;
  * `final_nms`: IoU against 0.5, as for the proposals;
  * `logit_gap`: at each decoding step of each unfinished caption, the best logit minus the
    second best (after GRiT sets the previous token's logit to -10000).
It also notes the coverage facts the golden file needs: boxes suppressed by the final NMS,
kept boxes that crossed the border before clipping.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

PROPOSAL_NMS, FINAL_NMS, SCORE_THRESH = 0.9, 0.5, 0.5
CANDIDATE_THRESH, PRE_NMS_TOPK, POST_NMS_TOPK = 1e-4, 1000, 256
#: Proposal scores p below this end as detection scores under sqrt(p) <= 0.5: never kept.
RELEVANT_PROPOSAL = SCORE_THRESH**2


def nms_margin(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> float:
    """Smallest |IoU - threshold| over the pairs greedy NMS compares (inf if none)."""
    if len(boxes) < 2:
        return math.inf
    boxes = boxes.double()
    order = torch.argsort(scores.double(), descending=True)
    boxes = boxes[order]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    alive = torch.ones(len(boxes), dtype=torch.bool)
    margin = math.inf
    for i in range(len(boxes) - 1):
        if not alive[i]:
            continue
        rest = boxes[i + 1 :]
        width = (
            torch.minimum(rest[:, 2], boxes[i, 2]) - torch.maximum(rest[:, 0], boxes[i, 0])
        ).clamp(min=0)
        height = (
            torch.minimum(rest[:, 3], boxes[i, 3]) - torch.maximum(rest[:, 1], boxes[i, 1])
        ).clamp(min=0)
        inter = width * height
        iou = inter / (area[i] + area[i + 1 :] - inter)
        live = alive[i + 1 :]
        if live.any():
            margin = min(margin, float((iou[live] - threshold).abs().min()))
        alive[i + 1 :] &= ~(iou > threshold)
    return margin


def cut_gap(values: torch.Tensor, kept: int, relevant_from: float = 0.0) -> float:
    """Gap between the `kept`-th largest value and the next one: inf when nothing is cut or
    when the value at the cut is under `relevant_from` (the cut cannot change a detection)."""
    if len(values) <= kept:
        return math.inf
    top = torch.topk(values.double(), kept + 1).values
    if float(top[kept - 1]) < relevant_from:
        return math.inf
    return float(top[kept - 1] - top[kept])


@dataclass
class Trace:
    """What one `run` recorded (margins are minima; lists are per decision site)."""

    margins: dict[str, float] = field(default_factory=dict)
    token_ids: list[list[list[int]]] = field(default_factory=list)  # per text pass
    suppressed_by_final_nms: int = 0
    kept_boxes_unclipped: list[list[float]] = field(default_factory=list)
    #: Per kept box: not empty after clipping (vbench's postprocess drops empty boxes after
    #: their captions were decoded).
    nonempty: list[bool] = field(default_factory=list)

    def note(self, name: str, value: float) -> None:
        self.margins[name] = min(self.margins.get(name, math.inf), value)


class ReferenceGrit:
    """vbench's GRiT (detectron2) in one task mode, with the margin instrumentation."""

    def __init__(self, checkpoint: str, task: str) -> None:
        from repvideo_eval.scoring.detection.grit import GritDetector

        self.task = task
        self.detector = GritDetector(
            task, device="cpu", weight_path=checkpoint, weights_id="golden"
        )
        self.model = self.detector.model  # vbench's DenseCaptioning

    @property
    def torch_model(self) -> torch.nn.Module:
        return self.model.demo.predictor.model

    def run(self, frame: np.ndarray) -> tuple[dict, Trace]:
        """vbench's output for `frame` (RGB uint8 HxWx3) and the trace of its decisions."""
        trace = Trace()
        with _instrumented(trace), torch.no_grad():
            predictions, _ = self.model.run_det_tensor(frame)
        from vbench.third_party.grit_src.image_dense_captions import dense_pred_to_caption_tuple

        instances = predictions["instances"].to("cpu")
        tuples = dense_pred_to_caption_tuple(predictions)
        n = len(instances)
        main, det = (trace.token_ids + [[], []])[:2]
        main = [ids for ids, keep in zip(main, trace.nonempty, strict=True) if keep]
        det = [ids for ids, keep in zip(det, trace.nonempty, strict=True) if keep] if det else []
        if len(main) != n or len(det) != n:
            raise AssertionError(f"{n} boxes but {len(main)}/{len(det)} decoded captions")
        output = {
            "boxes": instances.pred_boxes.tensor.tolist(),
            "scores": instances.scores.tolist(),
            "texts": [text for text, _, _ in tuples],
            "int_boxes": [box for _, box, _ in tuples],
            "object_texts": list(instances.det_obj.data) if n else [],
            "token_ids": main,
            "object_token_ids": det,
        }
        return output, trace


@contextmanager
def _instrumented(trace: Trace) -> Iterator[None]:
    """Wrap the decision sites of vbench's GRiT to record margins into `trace`."""
    from centernet.modeling.dense_heads.centernet import CenterNet
    from vbench.third_party.grit_src.grit.modeling.roi_heads.grit_roi_heads import (
        GRiTROIHeadsAndTextDecoder,
    )
    from vbench.third_party.grit_src.grit.modeling.text.text_decoder import GRiTTextDecoder

    originals = {
        (CenterNet, "predict_single_level"): CenterNet.predict_single_level,
        (CenterNet, "nms_and_topK"): CenterNet.nms_and_topK,
        (GRiTROIHeadsAndTextDecoder, "fast_rcnn_inference_single_image_GRiT"): (
            GRiTROIHeadsAndTextDecoder.fast_rcnn_inference_single_image_GRiT
        ),
        (GRiTTextDecoder, "decoding_step"): GRiTTextDecoder.decoding_step,
        (GRiTTextDecoder, "infer"): GRiTTextDecoder.infer,
    }

    def predict_single_level(self, grids, heatmap, reg_pred, image_sizes, agn_hm, level, **kw):
        probs = heatmap.reshape(-1).double()
        logits = torch.log(probs) - torch.log1p(-probs)
        trace.note(
            "candidate",
            float((logits - math.log(CANDIDATE_THRESH / (1 - CANDIDATE_THRESH))).abs().min()),
        )
        candidates = probs[probs > CANDIDATE_THRESH]
        # heatmap is sigmoid(logit); proposal scores are its square root.
        trace.note("proposal_topk", cut_gap(candidates.sqrt(), PRE_NMS_TOPK, RELEVANT_PROPOSAL))
        return originals[CenterNet, "predict_single_level"](
            self, grids, heatmap, reg_pred, image_sizes, agn_hm, level, **kw
        )

    def nms_and_topK(self, boxlists, nms=True):
        for boxlist in boxlists:
            trace.note(
                "proposal_nms", nms_margin(boxlist.pred_boxes.tensor, boxlist.scores, PROPOSAL_NMS)
            )
        results = originals[CenterNet, "nms_and_topK"](self, boxlists, nms=nms)
        return results

    def post_nms_gap(results):
        for result in results:
            trace.note("proposal_topk", cut_gap(result.scores, POST_NMS_TOPK, RELEVANT_PROPOSAL))

    def fast_rcnn_inference(self, boxes, scores, logits, image_shape, *args, **kwargs):
        foreground = scores[:, 0].double()
        if len(foreground):
            trace.note("score", float((foreground - SCORE_THRESH).abs().min()))
        clipped = boxes.reshape(-1, 4).clone()
        height, width = image_shape
        clipped[:, 0::2] = clipped[:, 0::2].clamp(0, width)
        clipped[:, 1::2] = clipped[:, 1::2].clamp(0, height)
        passed = scores[:, 0] > SCORE_THRESH
        trace.note("final_nms", nms_margin(clipped[passed], scores[passed, 0], FINAL_NMS))
        result, kept_rows = originals[
            GRiTROIHeadsAndTextDecoder, "fast_rcnn_inference_single_image_GRiT"
        ](self, boxes, scores, logits, image_shape, *args, **kwargs)
        trace.suppressed_by_final_nms = max(
            trace.suppressed_by_final_nms, int(passed.sum()) - len(result)
        )
        trace.kept_boxes_unclipped = boxes.reshape(-1, 4)[kept_rows].tolist()
        trace.nonempty = result.pred_boxes.nonempty().tolist()
        return result, kept_rows

    def decoding_step(self, object_features, partial_text):
        logits = originals[GRiTTextDecoder, "decoding_step"](self, object_features, partial_text)
        end = self.beamsearch_decode._eos_index
        adjusted = logits.double()
        rows = torch.ones(len(partial_text), dtype=torch.bool)
        if partial_text.dim() == 2 and partial_text.shape[1] > 1:
            adjusted = adjusted.scatter(1, partial_text[:, -1:], -10000.0)
            rows = partial_text[:, -1] != end
        if rows.any():
            top2 = adjusted[rows].topk(2, dim=1).values
            trace.note("logit_gap", float((top2[:, 0] - top2[:, 1]).min()))
        return logits

    def infer(self, object_features):
        output = originals[GRiTTextDecoder, "infer"](self, object_features)
        trace.token_ids.append(output["predictions"].reshape(len(object_features), -1).tolist())
        return output

    wrappers = {
        (CenterNet, "predict_single_level"): predict_single_level,
        (CenterNet, "nms_and_topK"): nms_and_topK,
        (GRiTROIHeadsAndTextDecoder, "fast_rcnn_inference_single_image_GRiT"): fast_rcnn_inference,
        (GRiTTextDecoder, "decoding_step"): decoding_step,
        (GRiTTextDecoder, "infer"): infer,
    }
    # The post-NMS k-th value cut: read from nms_and_topK's input/output is not enough (ties
    # keep more), so record the gap at the 256th score of the NMS survivors.
    from centernet.modeling.layers import ml_nms as ml_nms_module

    original_ml_nms = ml_nms_module.ml_nms
    import centernet.modeling.dense_heads.centernet as centernet_module

    def ml_nms(boxlist, nms_thresh, *args, **kwargs):
        result = original_ml_nms(boxlist, nms_thresh, *args, **kwargs)
        post_nms_gap([result])
        return result

    for (owner, name), wrapper in wrappers.items():
        setattr(owner, name, wrapper)
    centernet_module.ml_nms = ml_nms
    try:
        yield
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)
        centernet_module.ml_nms = original_ml_nms
