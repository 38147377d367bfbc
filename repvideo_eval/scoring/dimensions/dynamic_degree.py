"""dynamic_degree: is the video moving? RAFT flow magnitudes against a size-dependent threshold.

vbench (`dynamic_degree.DynamicDegree.infer`):
1. frames from OpenCV, BGR->RGB, float 0..255; keep every `max(1, round(fps/8))`-th frame (fps
   from `CAP_PROP_FPS`, Python's round, so 12 fps -> 2 and 20 fps -> 2), N = kept frames;
2. thres = 6 * min(H, W) / 256, count_num = round(4 * N / 16) (Python round);
3. for each consecutive pair: replicate-pad to a multiple of 8 (RAFT InputPadder, 'sintel'
   split), RAFT-large, 20 iterations, test_mode -> upsampled flow on the padded grid;
   pair score = float32 mean of the top int(h*w*0.05) flow magnitudes over the padded h*w;
4. moving = True as soon as `count_num` pair scores exceed thres (quirk: with count_num == 0,
   any single pair makes it True). Video score 1.0/0.0, aggregation weight 1; the dimension score
   is the fraction of moving videos. details keep the raw pair scores, thres and count_num.
We run RAFT's own modules through `models.raft.raft_flows` (pairs batched, feature encoder once
per frame, convex upsampling once) and stop as soon as the verdict is settled (see `pair_scores`):
details["pair_scores"] then lists the pairs scored, details["pairs_total"] how many there are.
"""

from __future__ import annotations

import numpy as np

from repvideo_eval.scoring.decode import DecodedVideo, min_side_for_pyramid, valid_fps
from repvideo_eval.scoring.models.loading import batch_size_for
from repvideo_eval.scoring.models.raft import load_raft, raft_flows, raft_input
from repvideo_eval.scoring.preprocess import pad_amounts
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext, VideoRejected


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
    #: Stop computing flow once the verdict is settled (same verdict, fewer RAFT calls).
    stop_when_decided = True

    def __init__(self, context: ScorerContext) -> None:
        super().__init__(context)
        self.model, self.weights_id = load_raft(context)
        self.batch_size = batch_size_for(context.device, type(self).batch_size)

    def pair_scores(self, frames: np.ndarray, thres: float, count_num: int) -> list[float]:
        """Top-5 % flow magnitudes of consecutive pairs of (N, H, W, 3) RGB uint8 frames, in order.

        With `stop_when_decided` (default) only as many pairs as `is_moving` needs: the first
        `count_num` pairs over `thres` settle "moving", and "static" is settled once too few
        pairs remain to get there. The verdict equals vbench's (which scores every pair and then
        runs the same check); only the list of pair scores is shorter.
        """
        images = raft_input(frames)
        total = len(images) - 1
        scores: list[float] = []
        above = 0
        while len(scores) < total:
            size = min(total - len(scores), self.batch_size)
            if self.stop_when_decided:  # no more pairs than could settle "moving"
                size = min(size, max(1, count_num - above))
            pairs = [(k, k + 1) for k in range(len(scores), len(scores) + size)]
            for flow in raft_flows(self.model, images, pairs, self.context.device):
                scores.append(top_flow_score(flow))
                above += scores[-1] > thres
            if self.stop_when_decided and (
                is_moving(scores, thres, count_num) or above + total - len(scores) < count_num
            ):
                break
        return scores

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        fps = video.cv2_fps()
        if not valid_fps(fps):
            raise VideoRejected(
                f"invalid frame rate in the file header ({fps}); dynamic_degree needs it for its frame stride"
            )
        stride = max(1, round(fps / 8))
        kept = np.ascontiguousarray(frames[::stride, :, :, ::-1])  # BGR -> RGB like vbench
        if len(kept) < 2:
            raise VideoRejected(
                f"only {len(kept)} frame left after keeping every {stride}th frame ({fps:g} fps)"
            )
        height, width = kept.shape[1:3]
        left, right, top, bottom = pad_amounts(height, width, 8)
        needed = min_side_for_pyramid(self.model.args.corr_levels)
        if min(height + top + bottom, width + left + right) < needed:
            raise VideoRejected(
                f"frames of {width}x{height} px are too small for RAFT's {self.model.args.corr_levels}-level "
                f"correlation pyramid (each level needs 2 cells: >= {needed} px after padding to a multiple of 8)"
            )
        thres = 6.0 * (min(height, width) / 256.0)
        count_num = round(4 * (len(kept) / 16.0))
        scores = self.pair_scores(kept, thres, count_num)
        moving = is_moving(scores, thres, count_num)
        return DimensionScore(
            score=1.0 if moving else 0.0,
            aggregation_weight=1.0,
            details={
                "fps": fps,
                "stride": stride,
                "frames_used": int(len(kept)),
                "thres": thres,
                "count_num": count_num,
                "pair_scores": scores,
                "pairs_total": int(len(kept) - 1),
            },
        )
