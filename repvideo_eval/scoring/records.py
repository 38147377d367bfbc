"""What goes into the scorer (`VideoToScore`) and what comes out (`ScoreRecord`).

Records are long-form (one row per video and dimension) because that is the single source every
report is built from; `weight` makes VBench's dimension score recoverable as a weighted mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class VideoToScore:
    """One video file plus what the scorers need to know about it.

    `auxiliary_info` maps a dimension name to its entry in VBench_full_info.json (semantic
    dimensions need it; may be empty). `key` holds opaque columns (model, sample, seed, ...)
    that are copied into every record of this video.
    """

    path: Path
    prompt: str = ""
    auxiliary_info: Mapping[str, Any] = field(default_factory=dict)
    key: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))


@dataclass(frozen=True)
class ScoreRecord:
    """The score of one video on one dimension.

    `score` is on VBench's 0..1 dimension scale (None when `error` says why it could not be
    computed). `weight` is the count VBench uses when aggregating (frame pairs for the two
    consistency dimensions, 1 per video otherwise), so the dimension score is
    sum(score * weight) / sum(weight) over the records without error.
    """

    video: str
    prompt: str
    dimension: str
    score: float | None
    weight: float
    error: str | None
    backend: str
    weights_id: str
    details: Mapping[str, Any] = field(default_factory=dict)
    key: Mapping[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the record carries a score."""
        return self.error is None and self.score is not None
