"""A deterministic stand-in for GRiT: detections derived from the frame's own pixels.

The same pixels always give the same detections, so vbench's code (fed through a fake
`DenseCaptioning`) and ours (fed through a `Detector`) see identical detections exactly when
they sample and resize identical frames. Output has GRiT's `dense_pred_to_caption_tuple` shape:
[(text, [x0, y0, x1, y1] ints, det_obj labels)] with det_obj shared by every region.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from repvideo_eval.scoring.detection.base import Detector
from repvideo_eval.scoring.detection.grit import detections_from_grit
from repvideo_eval.scoring.semantic_rules import FrameDetections

LABELS = ("car", "dog", "cat", "person", "bird")
CAPTIONS = (
    "a red car",
    "blue car",
    "red dog",
    "a bored cat",
    "green bird",
    "car",
    "white person",
    "a grey car",
)


def fake_grit_output(frame: np.ndarray, task: str) -> list[tuple]:
    array = np.ascontiguousarray(frame)
    digest = hashlib.sha256(array.tobytes() + str(array.dtype).encode() + task.encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    height, width = array.shape[:2]
    count = int(rng.integers(0, 5))
    det_obj = [str(rng.choice(LABELS)) for _ in range(int(rng.integers(0 if count == 0 else 1, 4)))]
    regions = []
    for _ in range(count):
        x0, y0 = int(rng.integers(0, width - 2)), int(rng.integers(0, height - 2))
        x1, y1 = int(rng.integers(x0 + 1, width)), int(rng.integers(y0 + 1, height))
        text = str(rng.choice(LABELS if task == "ObjectDet" else CAPTIONS))
        regions.append((text, [x0, y0, x1, y1], det_obj))
    return regions


class FakeDenseCaptioning:
    """What vbench's detection functions call: `run_caption_tensor(frame) -> (tuples, vis)`."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.frames_seen: list[tuple] = []

    def run_caption_tensor(self, frame):
        self.frames_seen.append((frame.shape, str(frame.dtype)))
        return fake_grit_output(frame, self.task), None


class FakeGritDetector(Detector):
    """The same detections behind our Detector interface (through our GRiT output conversion)."""

    name = "fake-grit"

    def __init__(self, task: str) -> None:
        super().__init__(task)  # type: ignore[arg-type]
        self.weights_id = "fake-grit"
        self.frames_seen: list[tuple] = []

    def detect(self, frame: np.ndarray, vocabulary: Sequence[str]) -> FrameDetections:
        self.frames_seen.append((frame.shape, str(frame.dtype)))
        return detections_from_grit(fake_grit_output(frame, self.task))
