"""The detector interface shared by the GRiT and OWLv2 backends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Literal

import numpy as np

from repvideo_eval.scoring.semantic_rules import FrameDetections

#: GRiT's two test tasks: "ObjectDet" (region text = object label) for object_class,
#: multiple_objects and spatial_relationship; "DenseCap" (region text = dense caption) for color.
Task = Literal["ObjectDet", "DenseCap"]


class Detector(ABC):
    """Turns one frame into VBench-style detections.

    `name` ("grit-torch", "grit-detectron2" or "owlv2") goes into every record's `weights_id` and details, so scores from
    two backends can never be averaged together unnoticed: they are different measurements.
    """

    name: ClassVar[str]

    def __init__(self, task: Task) -> None:
        self.task = task
        self.weights_id = "none"

    @abstractmethod
    def detect(self, frame: np.ndarray, vocabulary: Sequence[str]) -> FrameDetections:
        """Detections of one (H, W, 3) RGB frame, values 0..255 (uint8 or float32).

        `vocabulary` lists the words the dimension looks for; closed-set or generative detectors
        (GRiT) ignore it, open-vocabulary ones (OWLv2) add it to their text queries.
        """

    def detect_frames(
        self, frames: Sequence[np.ndarray], vocabulary: Sequence[str]
    ) -> list[FrameDetections]:
        """Detections of several frames (backends that batch override this)."""
        return [self.detect(frame, vocabulary) for frame in frames]
