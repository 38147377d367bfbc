"""The scorer interface: one subclass per VBench dimension, one module per subclass.

A scorer is built once per session (its models stay loaded) and called once per video with the
already-decoded frames of the decoder it declares. It returns a `DimensionScore`; the session turns
that into a `ScoreRecord`, or an error record when the scorer raises `VideoRejected`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from repvideo_eval.scoring.decode import DEFAULT_MAX_VIDEO_PIXELS, DecodedVideo, Decoder
from repvideo_eval.scoring.records import VideoToScore
from repvideo_eval.vocabulary import (
    DEFAULT_DETECTOR,
    DEFAULT_SCORING_WEIGHTS,
    ScoringWeightsMode,
    is_tiny_random,
)

#: Names the implementation in every record; parity is against this vbench release.
BACKEND = "repvideo-eval/vbench-0.1.5"


class VideoRejected(Exception):
    """This video cannot be scored on this dimension; the message is the reason in the record."""


@dataclass(frozen=True)
class DimensionScore:
    """A scorer's result for one video: VBench 0..1 score, aggregation weight, JSON-able details."""

    score: float
    aggregation_weight: float = 1.0
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScorerContext:
    """Where and with which weights the models of a session run."""

    device: str = "cpu"
    #: vocabulary.SCORING_WEIGHTS_MODES (the seed of tiny-random is `seed`)
    scoring_weights: ScoringWeightsMode = DEFAULT_SCORING_WEIGHTS
    cache_dir: Path | None = None
    seed: int = 0
    #: Backend of the four detection dimensions (vocabulary.DETECTORS).
    detector: str = DEFAULT_DETECTOR
    #: The most pixels one video may decode to (decode.DEFAULT_MAX_VIDEO_PIXELS).
    max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS

    @property
    def tiny_random(self) -> bool:
        """Whether scorers build seeded tiny random twins instead of loading weight files."""
        return is_tiny_random(self.scoring_weights)


class Scorer(ABC):
    """Base class of a dimension scorer.

    Subclasses set `dimension`, `decoder` (which decoder vbench uses for it), `min_frames`, and
    implement `score`. Model-based scorers load their model in `__init__` and set `weights_id`.
    """

    dimension: ClassVar[str]
    decoder: ClassVar[Decoder]
    min_frames: ClassVar[int] = 2

    def __init__(self, context: ScorerContext) -> None:
        self.context = context
        self.weights_id = "none"

    @abstractmethod
    def score(self, frames: np.ndarray, video: DecodedVideo, item: VideoToScore) -> DimensionScore:
        """Score one video from `frames` (T, H, W, 3) uint8 as the declared decoder returned them."""
