"""The per-video record table, `per_video.csv`: one schema for the run, `score` and `report`.

One row per (video, dimension): who made the video (model, card hash), which video it is
(prompt, prompt index, sample, seed, path), and its `ScoreRecord` (score, aggregation weight,
error, backend, weights id, details). The run and `score` both write rows through `row_for`
and `write_per_video_csv`; `report` reads them (see `reporting.records`).

A video scored from a folder without the run's sidecars has no known seed or card: its seed is
`UNKNOWN_SEED` and its card hash is empty.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from repvideo_eval.atomic import write_with_atomic
from repvideo_eval.scoring.records import ScoreRecord

#: Columns every reader needs; files written before `details` existed have only these, and
#: files written before a column was renamed have its old name (`records.LEGACY_FIELD_NAMES`).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "model",
    "card_hash",
    "prompt",
    "prompt_index",
    "sample",
    "seed",
    "video",
    "dimension",
    "score",
    "aggregation_weight",
    "error",
    "backend",
    "weights_id",
    "vbench_mode",
)
#: The scorer's per-record details (JSON), for inspection; reports do not read it.
DETAILS_COLUMN = "details"
PER_VIDEO_COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, DETAILS_COLUMN)
INT_COLUMNS: tuple[str, ...] = ("prompt_index", "sample", "seed")
UNKNOWN_SEED = -1
NOT_SCORED = "not scored (generation or scoring failed)"


@dataclass(frozen=True)
class VideoIdentity:
    """Which video a row is about; `video` is the path as the table should show it."""

    model: str
    card_hash: str
    prompt: str
    prompt_index: int
    sample: int
    seed: int
    video: str


def row_for(
    video: VideoIdentity, dimension: str, record: ScoreRecord | None, vbench_mode: str
) -> dict[str, object]:
    """One table row; `record` None means the score is missing (an error row)."""
    score = None if record is None else record.score
    if score is not None and isinstance(score, float) and math.isnan(score):
        score = None
    return {
        "model": video.model,
        "card_hash": video.card_hash,
        "prompt": video.prompt,
        "prompt_index": video.prompt_index,
        "sample": video.sample,
        "seed": video.seed,
        "video": video.video,
        "dimension": dimension,
        "score": "" if score is None else repr(float(score)),
        "aggregation_weight": 0.0 if record is None else repr(float(record.aggregation_weight)),
        "error": NOT_SCORED if record is None else (record.error or ""),
        "backend": "" if record is None else record.backend,
        "weights_id": "" if record is None else record.weights_id,
        "vbench_mode": vbench_mode,
        DETAILS_COLUMN: "" if record is None else json.dumps(record.details, sort_keys=True),
    }


def write_per_video_csv(rows: Sequence[dict[str, object]], path: Path) -> None:
    """Write the table atomically (a reader never sees half a file)."""

    def write(temp: Path) -> None:
        with temp.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=PER_VIDEO_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    write_with_atomic(path, write)
