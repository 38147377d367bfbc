"""spatial_relationship: per-frame box-layout score of object_a / object_b, averaged over frames.

vbench (`spatial_relationship.py`): 16-mid frames, size rule, GRiT ObjectDet; frame score = max
over pairs of boxes labelled object_a or object_b of `get_position_score` (see
`semantic_rules.position_score`: the **direction** of the relation is never checked, only its
axis, and two boxes of the same object form a valid pair). Video score = mean of the 16 frame
scores; dimension = mean over all frames, so the aggregation weight is the frame count (vbench's
multi-GPU path averages video scores instead; equal when all videos have 16 frames, as here).
"""

from __future__ import annotations

import numpy as np

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.detection.dimension_base import DetectionScorer, auxiliary
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore
from repvideo_eval.scoring.semantic_rules import spatial_frame_scores


class SpatialRelationship(DetectionScorer):
    dimension = "spatial_relationship"

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        info = auxiliary(item, self.dimension, "spatial_relationship")
        detections = self.detect_all(
            self.detector_frames(frames), [info["object_a"], info["object_b"]]
        )
        frame_scores = [float(s) for s in spatial_frame_scores(info, detections)]
        return DimensionScore(
            score=float(np.mean(frame_scores)),
            aggregation_weight=float(len(frame_scores)),
            details={**self.base_details(), "frame_results": frame_scores},
        )
