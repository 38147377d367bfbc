"""dynamic_degree: is the video moving? RAFT flow magnitudes against a size-dependent threshold.

vbench (`dynamic_degree.DynamicDegree.infer`):
1. frames from OpenCV, BGR->RGB, float 0..255; keep every `max(1, round(fps/8))`-th frame (fps
   from `CAP_PROP_FPS`, Python's round, so 12 fps -> 2 and 20 fps -> 2), N = kept frames;
2. thres = 6 * min(H, W) / 256, count_num = round(4 * N / 16) (Python round);
3. for each consecutive pair: replicate-pad to a multiple of 8 (RAFT InputPadder, 'sintel'
   split), RAFT-large, 20 iterations, test_mode -> upsampled flow on the padded grid;
   pair score = float32 mean of the top int(h*w*0.05) flow magnitudes over the padded h*w;
4. moving = True as soon as `count_num` pair scores exceed thres (quirk: with count_num == 0,
   any single pair makes it True). Video score 1.0/0.0, record weight 1; the dimension score
   is the fraction of moving videos. details keep the raw pair scores, thres and count_num.
We run RAFT's own modules with the pairs batched and the feature encoder applied once per frame
(fnet uses instance norm, so this equals the per-pair call); the update loop is RAFT's.
"""

from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from repvideo_eval.scoring.decode import DecodedVideo, min_side_for_pyramid, valid_fps
from repvideo_eval.scoring.dimensions.motion_smoothness import pad_amounts
from repvideo_eval.scoring.models.raft import load_raft
from repvideo_eval.scoring.preprocess import batches
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext, VideoRejected

RAFT_ITERS = 20


def top_flow_score(flow: np.ndarray) -> float:
    """vbench `get_score`: mean of the top 5 % flow magnitudes of one (2, h, w) float32 field."""
    u, v = flow[0], flow[1]
    rad = np.sqrt(np.square(u) + np.square(v))
    height, width = rad.shape
    cut = int(height * width * 0.05)
    return np.mean(abs(np.sort(-rad.flatten()))[:cut]).item()


def is_moving(pair_scores: list[float], thres: float, count_num: int) -> bool:
    """vbench `check_move`, quirk included (the count check runs after each increment)."""
    count = 0
    for value in pair_scores:
        if value > thres:
            count += 1
        if count >= count_num:
            return True
    return False


class DynamicDegree(Scorer):
    dimension = "dynamic_degree"
    decoder = "cv2"
    min_frames = 2
    batch_size = 8

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_raft(context)

    @torch.inference_mode()
    def pair_scores(self, frames: np.ndarray) -> list[float]:
        """Top-5 % flow magnitude of every consecutive pair of (N, H, W, 3) RGB uint8 frames."""
        from vbench.third_party.RAFT.core.corr import CorrBlock

        model = self.model
        device = self.context.device
        images = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
        left, right, top, bottom = pad_amounts(images.shape[-2], images.shape[-1], 8)
        images = F.pad(images, [left, right, top, bottom], mode="replicate")
        images = 2 * (images / 255.0) - 1.0
        scores: list[float] = []
        for a, b in batches(len(images) - 1, self.batch_size):
            chunk = images[a : b + 1].to(device).contiguous()
            fmaps = model.fnet(chunk).float()
            corr_fn = CorrBlock(fmaps[:-1], fmaps[1:], num_levels=model.args.corr_levels, radius=model.args.corr_radius)
            context = model.cnet(chunk[:-1])
            net, inp = torch.split(context, [model.hidden_dim, model.context_dim], dim=1)
            net, inp = torch.tanh(net), torch.relu(inp)
            coords0, coords1 = model.initialize_flow(chunk[:-1])
            for _ in range(RAFT_ITERS):
                corr = corr_fn(coords1)
                net, up_mask, delta_flow = model.update_block(net, inp, corr, coords1 - coords0)
                coords1 = coords1 + delta_flow
            flow_up = model.upsample_flow(coords1 - coords0, up_mask) if up_mask is not None else _upflow8(coords1 - coords0)
            for flow in flow_up.cpu().numpy():
                scores.append(top_flow_score(flow))
        return scores

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        fps = video.cv2_fps()
        if not valid_fps(fps):
            raise VideoRejected(f"invalid frame rate in the file header ({fps}); dynamic_degree needs it for its frame stride")
        stride = max(1, round(fps / 8))
        kept = np.ascontiguousarray(frames[::stride, :, :, ::-1])  # BGR -> RGB like vbench
        if len(kept) < 2:
            raise VideoRejected(f"only {len(kept)} frame left after keeping every {stride}th frame ({fps:g} fps)")
        height, width = kept.shape[1:3]
        left, right, top, bottom = pad_amounts(height, width, 8)
        needed = min_side_for_pyramid(self.model.args.corr_levels)
        if min(height + top + bottom, width + left + right) < needed:
            raise VideoRejected(f"frames of {width}x{height} px are too small for RAFT's {self.model.args.corr_levels}-level "
                                f"correlation pyramid (each level needs 2 cells: >= {needed} px after padding to a multiple of 8)")
        thres = 6.0 * (min(height, width) / 256.0)
        count_num = round(4 * (len(kept) / 16.0))
        scores = self.pair_scores(kept)
        moving = is_moving(scores, thres, count_num)
        return DimensionScore(
            score=1.0 if moving else 0.0,
            weight=1.0,
            details={"fps": fps, "stride": stride, "frames_used": int(len(kept)), "thres": thres,
                     "count_num": count_num, "pair_scores": scores},
        )


def _upflow8(flow: torch.Tensor) -> torch.Tensor:
    new_size = (8 * flow.shape[2], 8 * flow.shape[3])
    return 8 * F.interpolate(flow, size=new_size, mode="bilinear", align_corners=True)
