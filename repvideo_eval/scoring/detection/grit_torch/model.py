"""GritTorch: GRiT-B inference (vbench 0.1.5's DenseCaptioning) in plain PyTorch + torchvision.

One frame in, what vbench's four detection dimensions read out: the task's region texts, the
integer boxes (`int()` of the float boxes) and the ObjectDet texts of the same boxes (vbench's
`det_obj`), plus the float boxes, scores and token ids.

The frame is fed as vbench feeds it: RGB at native size (vbench's `SingleDefaultPredictor`
computes a resize but passes the original frame, and bypasses the RGB->BGR flip), float32,
normalised with `Base.yaml`'s mean/std, zero-padded bottom/right to a multiple of 32.
vbench runs the whole cascade twice per frame (`roi_heads` for the task, `forward_object` for
`det_obj`); both passes compute the same boxes, so the port runs it once and decodes twice
(DenseCap) or once (ObjectDet, where the two passes are the same computation).
Final scores are (detection score x exp(text log-probability)) ** 0.5 of the task's text, as
vbench's `pred_instance.scores`. When every region's first token is the end token, vbench's
scores tensor broadcasts to (n, n); its diagonal is the per-region score and is what we return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from repvideo_eval.errors import UserError
from repvideo_eval.scoring.detection.grit_torch.backbone import Backbone
from repvideo_eval.scoring.detection.grit_torch.box_heads import CascadeBoxHeads, pool_levels
from repvideo_eval.scoring.detection.grit_torch.checkpoint import (
    read_checkpoint,
    resolve_state_dict,
)
from repvideo_eval.scoring.detection.grit_torch.config import GRIT_B, GritConfig
from repvideo_eval.scoring.detection.grit_torch.proposals import CenterNet
from repvideo_eval.scoring.detection.grit_torch.text_decoder import Decoded, TextDecoder
from repvideo_eval.vocabulary import LOCAL_WEIGHTS

GritTask = Literal["ObjectDet", "DenseCap"]
TASKS: tuple[str, ...] = ("ObjectDet", "DenseCap")


@dataclass(frozen=True)
class GritOutput:
    """One frame's detections, best score first (vbench's order)."""

    boxes: torch.Tensor  # (n, 4) float32 xyxy in input pixels, clipped to the frame
    scores: torch.Tensor  # (n,) float32
    texts: list[str]  # the task's region texts (DenseCap captions or ObjectDet labels)
    object_texts: list[str]  # the ObjectDet texts of the same regions (vbench's det_obj)
    token_ids: list[list[int]]  # the task decoder's tokens per region (begin token first)
    object_token_ids: list[list[int]]  # the ObjectDet decoder's tokens per region
    token_margins: list[list[float]]  # per region and step: best minus second-best log-prob

    @property
    def int_boxes(self) -> list[list[int]]:
        """The boxes as vbench reads them: `int()` of each coordinate (truncation)."""
        return [[int(v) for v in row] for row in self.boxes.tolist()]

    def caption_tuples(self) -> list[tuple[str, list[int], list[str]]]:
        """vbench's `dense_pred_to_caption_tuple`: (text, int box, det_obj) per region."""
        return [(text, box, self.object_texts) for text, box in zip(self.texts, self.int_boxes)]


class RoiHeads(CascadeBoxHeads):
    def __init__(self, config: GritConfig) -> None:
        super().__init__(config)
        self.text_decoder = TextDecoder(config)


class GritNetwork(nn.Module):
    """The modules, named as the checkpoint's keys."""

    def __init__(self, config: GritConfig) -> None:
        super().__init__()
        self.backbone = Backbone(config)
        self.proposal_generator = CenterNet(config)
        self.roi_heads = RoiHeads(config)


def load_tokenizer(source: Any = None):
    """A BertTokenizer as given, or built from a `vocab.txt` (or a folder holding one); None:
    the weight cache's `bert_base_uncased_vocab` (UserError naming fetch-weights when absent)."""
    if source is None:
        from repvideo_eval.scoring.semantic_models import weight_files  # noqa: F401  (registers it)
        from repvideo_eval.scoring.weights import resolve

        source = resolve("bert_base_uncased_vocab", mode=LOCAL_WEIGHTS).path
    if not isinstance(source, (str, Path)):
        return source
    path = Path(source)
    vocab = path / "vocab.txt" if path.is_dir() else path
    if not vocab.is_file() or vocab.name != "vocab.txt":
        raise UserError(
            f"GRiT's tokenizer vocabulary {vocab} does not exist (a file named vocab.txt).",
            "Run `repvideo-eval fetch-weights --dimensions object_class` to download it.",
        )
    from transformers import BertTokenizer

    return BertTokenizer.from_pretrained(str(vocab.parent), do_lower_case=True)


def _frame_tensor(frame: np.ndarray | torch.Tensor) -> torch.Tensor:
    array = torch.as_tensor(np.asarray(frame)) if not torch.is_tensor(frame) else frame
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB frame, got shape {tuple(array.shape)}")
    return array.to(torch.float32).permute(2, 0, 1)


class GritTorch:
    """GRiT-B DenseCap+ObjectDet inference; see the module docstring."""

    def __init__(
        self,
        network: GritNetwork,
        tokenizer: Any,
        *,
        config: GritConfig = GRIT_B,
        device: str | torch.device = "cpu",
    ) -> None:
        self.config = config
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.tokenizer = load_tokenizer(tokenizer)
        mean, std = torch.tensor(config.pixel_mean), torch.tensor(config.pixel_std)
        self.pixel_mean = mean.view(-1, 1, 1).to(self.device)
        self.pixel_std = std.view(-1, 1, 1).to(self.device)
        #: Same-size frames of one `detect_batch` call share one backbone pass: on CUDA (on CPU
        #: a batch is no faster than its frames one by one, so they run alone).
        self.batch_backbone = self.device.type == "cuda"

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_state_dict(
        cls,
        state_dict: dict[str, torch.Tensor],
        tokenizer: Any = None,
        *,
        config: GritConfig = GRIT_B,
        device: str | torch.device = "cpu",
    ) -> GritTorch:
        """Check every key and shape (checkpoint.resolve_state_dict), then load strictly."""
        with torch.device("meta"):
            skeleton = GritNetwork(config)
        expected = {key: value.shape for key, value in skeleton.state_dict().items()}
        resolved = resolve_state_dict(state_dict, expected)
        from repvideo_eval.scoring.models.loading import skipped_init

        with skipped_init():  # every tensor is overwritten by the strict load below
            network = GritNetwork(config)
        network.load_state_dict(resolved, strict=True)
        return cls(network, tokenizer, config=config, device=device)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, tokenizer: Any = None, *, device: str | torch.device = "cpu"
    ) -> GritTorch:
        """`torch.load(path, weights_only=True)["model"]` -> from_state_dict."""
        return cls.from_state_dict(read_checkpoint(path), tokenizer, device=device)

    @classmethod
    def random(
        cls, tokenizer: Any, *, config: GritConfig, seed: int, device: str | torch.device = "cpu"
    ) -> GritTorch:
        """Random weights under `seed` (the offline demo's tiny GRiT); nothing else changes."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            network = GritNetwork(config)
        return cls(network, tokenizer, config=config, device=device)

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def detect(self, frame: np.ndarray | torch.Tensor, task: GritTask = "ObjectDet") -> GritOutput:
        """Detections of one (H, W, 3) RGB frame (values 0..255, uint8 or float)."""
        return self.detect_batch([frame], task)[0]

    @torch.no_grad()
    def detect_batch(
        self, frames: Sequence[np.ndarray | torch.Tensor], task: GritTask = "ObjectDet"
    ) -> list[GritOutput]:
        """Several frames. With `batch_backbone` (the default on CUDA) same-size frames share
        one backbone pass; otherwise, and for mixed sizes, each frame runs alone. Everything
        after the backbone runs per frame, as in vbench (its GRiT heads take one image at a
        time)."""
        if task not in TASKS:
            raise ValueError(f"GRiT task must be one of {TASKS}, got {task!r}")
        images = [_frame_tensor(frame).to(self.device) for frame in frames]
        batchable = self.batch_backbone and len({im.shape for im in images}) == 1
        groups = [images] if batchable and images else [[im] for im in images]
        outputs: list[GritOutput] = []
        for group in groups:
            padded = torch.stack([self._normalise_and_pad(im) for im in group])
            features = self.network.backbone(padded)
            proposals = self.network.proposal_generator(features)
            for index, image in enumerate(group):
                per_image = [level[index : index + 1] for level in features[:3]]
                size = (image.shape[1], image.shape[2])
                outputs.append(self._heads(per_image, proposals[index], size, task))
        return outputs

    def _normalise_and_pad(self, image: torch.Tensor) -> torch.Tensor:
        image = (image - self.pixel_mean) / self.pixel_std
        multiple = self.config.size_divisibility
        height, width = image.shape[1:]
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        return F.pad(image, [0, pad_w, 0, pad_h], value=0.0)

    def _heads(
        self,
        features: list[torch.Tensor],
        proposals: tuple[torch.Tensor, torch.Tensor],
        size: tuple[int, int],
        task: GritTask,
    ) -> GritOutput:
        config, heads = self.config, self.network.roi_heads
        boxes, scores = heads(features, proposals[0], proposals[1], size)
        if len(boxes) == 0:
            return GritOutput(boxes.float(), scores.float(), [], [], [], [], [])
        pooled = pool_levels(features, boxes, config.object_pooler_resolution, config.strides)
        memory = pooled.view(pooled.shape[0], pooled.shape[1], -1).permute(0, 2, 1).contiguous()
        decoded = heads.text_decoder(memory, config.begin_token(task))
        objects = (
            decoded
            if task == "ObjectDet"
            else heads.text_decoder(memory, config.objectdet_begin_token)
        )
        logprobs = decoded.logprobs if decoded.logprobs.ndim == 1 else decoded.logprobs[:, 0]
        scores = (scores * torch.exp(logprobs)) ** 0.5
        # detectron2's detector_postprocess: (scale 1.0,) clip, drop empty boxes.
        keep = ((boxes[:, 2] - boxes[:, 0]) > 0) & ((boxes[:, 3] - boxes[:, 1]) > 0)
        kept = keep.nonzero()[:, 0].tolist()
        return GritOutput(
            boxes=boxes[keep].float().cpu(),
            scores=scores[keep].float().cpu(),
            texts=self._texts(decoded, kept),
            object_texts=self._texts(objects, kept),
            token_ids=[decoded.tokens[i].tolist() for i in kept],
            object_token_ids=[objects.tokens[i].tolist() for i in kept],
            token_margins=[decoded.margins[i].tolist() for i in kept],
        )

    def _texts(self, decoded: Decoded, rows: list[int]) -> list[str]:
        """vbench: `tokenizer.decode(ids[1:], skip_special_tokens=True)`, under transformers 4.33,
        whose BERT tokenizer cleaned up tokenization spaces by default (5.x does not)."""
        return [
            self.tokenizer.decode(
                decoded.tokens[i].tolist()[1:],
                skip_special_tokens=True,
                clean_up_tokenization_spaces=True,
            )
            for i in rows
        ]
