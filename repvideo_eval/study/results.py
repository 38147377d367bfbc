"""Load a study's judgements from its SQLite database into one table, in model terms.

Raters choose a side ("left", "right", "tie"); what the statistics need is which *model* won.
This module is the one place that maps a side to a model (through the task's left and right
videos); downstream, the side (`choice`) serves only the side-bias check. The database is opened read-only: a report may run while
the server is still collecting votes, and sees every vote committed so far.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from repvideo_eval.errors import UserError
from repvideo_eval.study.database import database_path, read_meta
from repvideo_eval.study.schema import DATABASE_NAME, SCHEMA_VERSION

TIE = "tie"
JUDGEMENT_COLUMNS = (
    "rater",
    "task_id",
    "pair",
    "prompt",
    "sample",
    "seed",
    "criterion",
    "choice",
    "winner",
    "left_model",
    "repeat_of",
    "voted_at",
)

_JUDGEMENTS_SQL = """
SELECT t.rater_id, t.task_id, t.pair_id, p.prompt, p.sample, p.seed, t.criterion, v.choice,
       lv.model, rv.model, t.repeat_of, v.voted_at
FROM votes AS v
JOIN tasks AS t ON t.task_id = v.task_id
JOIN pairs AS p ON p.pair_id = t.pair_id
JOIN videos AS lv ON lv.video_id = t.left_video
JOIN videos AS rv ON rv.video_id = t.right_video
ORDER BY t.rater_id, t.position
"""


@dataclass(frozen=True)
class StudyData:
    """A study's settings and its judgements so far (one row per committed vote)."""

    study_dir: Path
    models: tuple[str, str]
    criteria: tuple[str, ...]
    allow_ties: bool
    meta: dict[str, Any]
    judgements: pd.DataFrame
    n_raters: int
    n_tasks: int

    @property
    def n_votes(self) -> int:
        return len(self.judgements)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise UserError(
            f"cannot open the study database {path} ({exc})",
            "Check the file's permissions, or rebuild the study with `study create`.",
        ) from None


def _read_meta(connection: sqlite3.Connection, path: Path) -> dict[str, Any]:
    try:
        meta = read_meta(connection)
    except json.JSONDecodeError:
        raise UserError(
            f"{path}: a meta value is not JSON",
            "The database is damaged; rebuild the study with `study create`.",
        ) from None
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise UserError(
            f"{path} has schema version {meta.get('schema_version')!r}, this tool reads "
            f"version {SCHEMA_VERSION}",
            "Report the study with the repvideo-eval version that created it.",
        )
    models = meta.get("models")
    if not (
        isinstance(models, list) and len(models) == 2 and all(isinstance(m, str) for m in models)
    ):
        raise UserError(
            f"{path}: meta 'models' is {models!r}, not two model names",
            "The database is damaged; rebuild the study with `study create`.",
        )
    return meta


def _judgements(connection: sqlite3.Connection, models: tuple[str, str]) -> pd.DataFrame:
    rows = []
    for (
        rater,
        task_id,
        pair,
        prompt,
        sample,
        seed,
        criterion,
        choice,
        left_model,
        right_model,
        repeat_of,
        voted_at,
    ) in connection.execute(_JUDGEMENTS_SQL):
        winner = {"left": left_model, "right": right_model}.get(choice, TIE)
        rows.append(
            (
                int(rater),
                str(task_id),
                int(pair),
                str(prompt),
                int(sample),
                int(seed),
                str(criterion),
                str(choice),
                str(winner),
                str(left_model),
                str(repeat_of) if repeat_of is not None else "",
                float(voted_at),
            )
        )
    frame = pd.DataFrame(rows, columns=list(JUDGEMENT_COLUMNS))
    unknown = set(frame["winner"]) - {*models, TIE}
    if unknown:
        raise UserError(
            f"the study's videos name models {sorted(unknown)} outside meta 'models' {list(models)}",
            "The database is damaged; rebuild the study with `study create`.",
        )
    return frame


def load_study(study_dir: Path) -> StudyData:
    """Read the study's settings and every committed vote (read-only; the server may be running)."""
    path = database_path(study_dir)
    if not path.is_file():
        raise UserError(
            f"no study database {DATABASE_NAME} in {study_dir}",
            "Pass the folder that `study create --output` wrote.",
        )
    connection = _connect_read_only(path)
    try:
        meta = _read_meta(connection, path)
        models = (str(meta["models"][0]), str(meta["models"][1]))
        judgements = _judgements(connection, models)
        n_raters = int(connection.execute("SELECT COUNT(*) FROM raters").fetchone()[0])
        n_tasks = int(connection.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])
    except sqlite3.Error as exc:
        raise UserError(
            f"cannot read the study database {path} ({exc})",
            "The database is damaged or not a study; rebuild it with `study create`.",
        ) from None
    finally:
        connection.close()
    criteria = meta.get("criteria") or sorted(set(judgements["criterion"]))
    return StudyData(
        study_dir=Path(study_dir),
        models=models,
        criteria=tuple(str(c) for c in criteria),
        allow_ties=bool(meta.get("allow_ties", False)),
        meta=meta,
        judgements=judgements,
        n_raters=n_raters,
        n_tasks=n_tasks,
    )
