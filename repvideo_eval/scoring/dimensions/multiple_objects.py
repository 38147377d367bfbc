"""multiple_objects: fraction of 16 frames in which both objects of "A and B" are detected.

vbench (`multiple_objects.py`): as object_class, but the auxiliary "object" is split on " and "
and a frame needs both names in its ObjectDet label set. Aggregation weight = frame count.
"""

from __future__ import annotations

import numpy as np

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.detection.dimension_base import DetectionScorer, auxiliary
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore
from repvideo_eval.scoring.semantic_rules import multiple_objects_hits, split_object_pair


class MultipleObjects(DetectionScorer):
    dimension = "multiple_objects"

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        object_info = auxiliary(item, self.dimension, "object")
        detections = self.detect_all(
            self.detector_frames(frames), list(split_object_pair(object_info))
        )
        hits = multiple_objects_hits(object_info, detections)
        return self.frame_hit_score(hits, len(detections))
