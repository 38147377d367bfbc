"""Shared scorer plumbing of the four detection dimensions: sample, resize, detect, label.

Frames: vbench's `load_video(num_frames=16)` (decord, 16-mid), then its size rule (short side
to 720 when min(H, W) > 768). Aggregation weight = number of frames for the frame-counted dimensions
(vbench's dimension score is total hit frames / total frames). Every record names the detector
in `weights_id` and `details["detector"]`, so GRiT and OWLv2 results cannot be mixed silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from repvideo_eval.scoring.detection.base import Detector, Task
from repvideo_eval.scoring.detection.select import load_detector
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.scoring.scorer import DimensionScore, Scorer, ScorerContext, VideoRejected
from repvideo_eval.scoring.semantic_rules import FrameDetections
from repvideo_eval.scoring.semantic_sampling import (
    SEMANTIC_NUM_FRAMES,
    resize_like_torchvision,
    sample_middle,
)


def auxiliary(item: VideoToScore, dimension: str, key: str):
    """`auxiliary_info[dimension][key]` from VBench_full_info.json, or VideoRejected naming what is missing."""
    entry = item.auxiliary_info.get(dimension)
    if not isinstance(entry, dict) or key not in entry:
        raise VideoRejected(
            f"{dimension} needs auxiliary_info[{dimension!r}][{key!r}] (VBench_full_info.json); the item has none"
        )
    return entry[key]


class DetectionScorer(Scorer):
    """Base of object_class, multiple_objects, color and spatial_relationship."""

    decoder = "decord"
    min_frames = 1
    task: ClassVar[Task] = "ObjectDet"

    def __init__(self, context: ScorerContext, detector: Detector | None = None) -> None:
        super().__init__(context)
        self.detector = detector if detector is not None else load_detector(context, self.task)
        self.weights_id = self.detector.weights_id

    def detector_frames(self, frames: np.ndarray) -> np.ndarray:
        """The 16 frames GRiT sees for ObjectDet dimensions: float32 after torchvision's resize."""
        return resize_like_torchvision(sample_middle(frames, SEMANTIC_NUM_FRAMES))

    def detect_all(self, frames: np.ndarray, vocabulary: Sequence[str]) -> list[FrameDetections]:
        return self.detector.detect_frames(list(frames), vocabulary)

    def base_details(self) -> dict:
        return {"detector": self.detector.name}

    def frame_hit_score(self, hits: int, frame_count: int) -> DimensionScore:
        """vbench's per-video result of the frame-counting dimensions (object_class,
        multiple_objects): hits / frames, weighted by the frame count, since the dimension's
        score is total hits over total frames."""
        return DimensionScore(
            score=hits / frame_count,
            aggregation_weight=float(frame_count),
            details={
                **self.base_details(),
                "success_frame_count": hits,
                "frame_count": frame_count,
            },
        )
