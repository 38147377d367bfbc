"""`study create`: runs -> paired videos -> seeded plan -> one SQLite database, written atomically.

The database is built under a temporary name in the study folder and renamed into place, so a
failure leaves no half-made study; a folder this command created is removed again on failure.
Tokens, task ids and video ids are drawn with `secrets` (unguessable, not part of the seeded plan).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from repvideo_eval.atomic import write_with_atomic
from repvideo_eval.errors import UserError
from repvideo_eval.study.database import PRIVATE_MODE, database_path
from repvideo_eval.study.plan import PlannedTask, choose_pairs, plan_tasks
from repvideo_eval.study.runs import VideoPair, collect_pairs
from repvideo_eval.study.schema import SCHEMA_SQL, SCHEMA_VERSION

TOKEN_BYTES = 24
ID_BYTES = 12


@dataclass(frozen=True)
class StudySettings:
    """What `study create` was asked for."""

    run_dirs: tuple[Path, ...]
    models: tuple[str, str]
    criteria: tuple[str, ...]
    raters: int
    tasks_per_rater: int | None
    repeats: int
    allow_ties: bool
    seed: int
    pairs: int | None = None


@dataclass(frozen=True)
class CreatedStudy:
    """The new database and the secrets to hand out."""

    database: Path
    rater_tokens: list[str]
    admin_token: str
    pairs: int
    tasks: int


def create_study(settings: StudySettings, study_dir: Path) -> CreatedStudy:
    """Validate everything, then write `study_dir/study.sqlite3` in one atomic step."""
    target = database_path(study_dir)
    if target.exists():
        raise UserError(
            f"{study_dir} already holds a study", "Choose a new --output folder for a new study."
        )
    if study_dir.exists() and not study_dir.is_dir():
        raise UserError(f"{study_dir} is a file", "Pass a folder path to --output.")
    shared = collect_pairs(settings.run_dirs, settings.models)
    pairs = [shared[i] for i in choose_pairs(len(shared), settings.pairs, settings.seed)]
    units = len(pairs) * len(settings.criteria)
    tasks_per_rater = settings.tasks_per_rater or min(units, 50 * len(settings.criteria))
    plan = plan_tasks(
        len(pairs),
        settings.criteria,
        raters=settings.raters,
        tasks_per_rater=tasks_per_rater,
        repeats=settings.repeats,
        seed=settings.seed,
    )
    rater_tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in range(settings.raters)]
    admin_token = secrets.token_urlsafe(TOKEN_BYTES)
    meta = {
        "schema_version": SCHEMA_VERSION,
        "models": list(settings.models),
        "criteria": list(settings.criteria),
        "allow_ties": settings.allow_ties,
        "seed": settings.seed,
        "runs": [str(Path(run).resolve()) for run in settings.run_dirs],
        "admin_token": admin_token,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tasks_per_rater": tasks_per_rater,
        "repeats_per_rater": settings.repeats,
    }
    created_folder = not study_dir.exists()
    try:
        write_with_atomic(
            target,
            lambda tmp: _write_database(tmp, meta, pairs, rater_tokens, plan),
            mode=PRIVATE_MODE,
        )
    except BaseException:
        if created_folder and study_dir.is_dir() and not any(study_dir.iterdir()):
            study_dir.rmdir()
        raise
    return CreatedStudy(target, rater_tokens, admin_token, len(pairs), len(plan))


def _write_database(
    path: Path,
    meta: dict[str, object],
    pairs: Sequence[VideoPair],
    rater_tokens: Sequence[str],
    plan: Sequence[PlannedTask],
) -> None:
    # mkstemp made an empty owner-only file: SQLite takes an empty file as a fresh database and
    # gives its journal the same mode, so the secrets are never readable by others, even briefly.
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        connection.executescript(SCHEMA_SQL)
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [(key, json.dumps(value)) for key, value in meta.items()],
        )
        connection.executemany(
            "INSERT INTO raters (rater_id, token) VALUES (?, ?)", list(enumerate(rater_tokens))
        )
        models = [str(model) for model in meta["models"]]  # type: ignore[attr-defined]
        video_ids: list[tuple[str, str]] = []
        for pair_id, pair in enumerate(pairs):
            ids = (secrets.token_urlsafe(ID_BYTES), secrets.token_urlsafe(ID_BYTES))
            video_ids.append(ids)
            for video_id, model, video in zip(ids, models, (pair.video_a, pair.video_b)):
                connection.execute(
                    "INSERT INTO videos (video_id, model, prompt, sample, seed, path) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (video_id, model, pair.prompt, pair.sample, pair.seed, str(video.resolve())),
                )
            connection.execute(
                "INSERT INTO pairs (pair_id, prompt, sample, seed, video_a, video_b) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (pair_id, pair.prompt, pair.sample, pair.seed, *ids),
            )
        task_ids = {(t.rater, t.position): secrets.token_urlsafe(ID_BYTES) for t in plan}
        for task in plan:
            video_a, video_b = video_ids[task.pair]
            left, right = (video_a, video_b) if task.a_left else (video_b, video_a)
            repeat_of = None if task.repeat_of is None else task_ids[(task.rater, task.repeat_of)]
            connection.execute(
                "INSERT INTO tasks (task_id, rater_id, position, pair_id, criterion, left_video, "
                "right_video, repeat_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task_ids[(task.rater, task.position)],
                    task.rater,
                    task.position,
                    task.pair,
                    task.criterion,
                    left,
                    right,
                    repeat_of,
                ),
            )
        connection.execute("COMMIT")
        connection.execute(
            "PRAGMA journal_mode = WAL"
        )  # persists in the file; the server reopens it
    finally:
        connection.close()
