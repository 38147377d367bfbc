"""temporal_flickering: mean absolute difference of consecutive frames (no model).

vbench (`temporal_flickering.cal_score`): frames from OpenCV, kept **BGR** (irrelevant for a
MAE over channels), cast to float32; per pair the MAE over all pixels and channels
(`cv2.absdiff` of float32 arrays, `np.mean`); video score = (255 - mean over pairs) / 255.
Dimension score = mean over videos (aggregation weight 1). VBench expects static-filtered videos for
this dimension (25 samples per prompt, 5 kept); this module scores whatever it is given.
Quirk kept: `np.mean` of float32 values accumulates in float32 with pairwise summation, so we
use exactly that reduction instead of a float64 mean.
"""

from __future__ import annotations

import numpy as np

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer


class TemporalFlickering(Scorer):
    dimension = "temporal_flickering"
    decoder = "cv2"
    min_frames = 2

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        as_float = frames.astype(np.float32)
        # Per-pair MAE in float32, like np.mean(cv2.absdiff(float32, float32)) in vbench.
        pair_mae = [
            np.mean(np.abs(as_float[i] - as_float[i + 1])) for i in range(len(as_float) - 1)
        ]
        mean_mae = np.mean(np.array(pair_mae)).item()
        return DimensionScore(
            score=(255.0 - mean_mae) / 255.0,
            aggregation_weight=1.0,
            details={"frames": int(len(frames)), "mean_abs_diff": float(mean_mae)},
        )
