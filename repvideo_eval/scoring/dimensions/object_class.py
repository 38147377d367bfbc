"""object_class: fraction of 16 frames in which the detector finds the prompt's object.

vbench (`object_class.py`): 16-mid frames, size rule, GRiT ObjectDet; a frame is a hit when the
object name is in the frame's ObjectDet label set (exact string, `semantic_rules.frame_label_set`,
quirks there). Video score = hits / 16; dimension = total hits / total frames, so the aggregation
weight is the frame count. vbench also swallows any detector exception as "no label" for this
dimension (bare `except`); we let a failing detector become an error record instead.
"""

from __future__ import annotations

import numpy as np

from repvideo_eval.scoring.decode import DecodedVideo
from repvideo_eval.scoring.detection.dimension_base import DetectionScorer, auxiliary
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore
from repvideo_eval.scoring.semantic_rules import object_class_hits


class ObjectClass(DetectionScorer):
    dimension = "object_class"

    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        target = auxiliary(item, self.dimension, "object")
        detections = self.detect_all(self.detector_frames(frames), [target])
        hits = object_class_hits(target, detections)
        return self.frame_hit_score(hits, len(detections))
