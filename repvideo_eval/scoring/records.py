"""What goes into the scorer (`VideoToScore`) and what comes out (`ScoreRecord`).

Records are long-form (one row per video and dimension) because that is the single source every
report is built from; `aggregation_weight` makes VBench's dimension score recoverable as a
weighted mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

V = TypeVar("V")

#: Record fields renamed since files were first written: old name -> name today. Records and
#: per_video.csv files written before the rename keep the old name; every reader maps it.
LEGACY_FIELD_NAMES: Mapping[str, str] = {"weight": "aggregation_weight"}


def current_field_name(name: str) -> str:
    """The name today of a record field or per_video.csv column read from a file."""
    return LEGACY_FIELD_NAMES.get(name, name)


def with_current_field_names(fields: Mapping[str, V]) -> dict[str, V]:
    """`fields` with legacy names mapped (a field present under both names keeps the new one)."""
    return {
        current_field_name(name): value
        for name, value in fields.items()
        if LEGACY_FIELD_NAMES.get(name) not in fields
    }


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
    computed). `aggregation_weight` is the count VBench uses when aggregating (frame pairs for
    the two consistency dimensions, frames for the frame-counted semantic dimensions, clips in
    VBench-Long, 1 per video otherwise), so the dimension score is
    sum(score * aggregation_weight) / sum(aggregation_weight) over the records without error.
    """

    video: str
    prompt: str
    dimension: str
    score: float | None
    aggregation_weight: float
    error: str | None
    backend: str
    weights_id: str
    details: Mapping[str, Any] = field(default_factory=dict)
    key: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScoreRecord:
        """A record from its JSON form (`dataclasses.asdict`), written by any version."""
        return cls(**with_current_field_names(data))

    @property
    def ok(self) -> bool:
        """True when the record carries a score."""
        return self.error is None and self.score is not None
