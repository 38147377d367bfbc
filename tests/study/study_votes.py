"""Build study databases with known votes, in the schema `study create` writes (no server needed).

`StudyBuilder` writes the plan (raters, videos, pairs, tasks) and votes given in model terms;
it places model A left or right as asked, so tests check that sides are mapped back to models.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from repvideo_eval.study.schema import DATABASE_NAME, SCHEMA_SQL, SCHEMA_VERSION

CRITERIA = ("spatial_appearance", "temporal_consistency", "video_text_alignment")
MODELS = ("cogvideox-2b", "repvideo-2b")


class StudyBuilder:
    """A study database under construction; call `close()` (or use `with`) to commit."""

    def __init__(
        self,
        study_dir: Path,
        *,
        models: Sequence[str] = MODELS,
        criteria: Sequence[str] = CRITERIA,
        n_raters: int = 3,
        allow_ties: bool = True,
        runs: Sequence[Path] = (),
    ) -> None:
        self.study_dir = Path(study_dir)
        self.study_dir.mkdir(parents=True, exist_ok=True)
        self.models = tuple(models)
        self.db = sqlite3.connect(self.study_dir / DATABASE_NAME)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA_SQL)
        meta = {
            "schema_version": SCHEMA_VERSION,
            "models": list(models),
            "criteria": list(criteria),
            "allow_ties": allow_ties,
            "seed": 0,
            "runs": [str(run) for run in runs],
            "admin_token": secrets.token_urlsafe(16),
            "created_at": "2026-12-01T00:00:00Z",
            "tasks_per_rater": 0,
            "repeats_per_rater": 0,
        }
        self.db.executemany(
            "INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()]
        )
        self.db.executemany(
            "INSERT INTO raters VALUES (?, ?)",
            [(r, secrets.token_urlsafe(16)) for r in range(n_raters)],
        )
        self.pairs: dict[tuple[str, int], int] = {}
        self.positions: dict[int, int] = {}

    def pair(self, prompt: str, sample: int = 0) -> int:
        """The pair of (prompt, sample), with one video per model (created on first use)."""
        key = (prompt, sample)
        if key not in self.pairs:
            ids = []
            for model in self.models:
                video_id = secrets.token_urlsafe(8)
                self.db.execute(
                    "INSERT INTO videos VALUES (?, ?, ?, ?, ?, ?)",
                    (video_id, model, prompt, sample, 1000 + sample, f"/nowhere/{video_id}.mp4"),
                )
                ids.append(video_id)
            pair_id = len(self.pairs)
            self.db.execute(
                "INSERT INTO pairs VALUES (?, ?, ?, ?, ?, ?)",
                (pair_id, prompt, sample, 1000 + sample, ids[0], ids[1]),
            )
            self.pairs[key] = pair_id
        return self.pairs[key]

    def task(
        self,
        rater: int,
        prompt: str,
        criterion: str,
        *,
        a_left: bool = True,
        sample: int = 0,
        repeat_of: str | None = None,
    ) -> str:
        """Assign (prompt, sample) under `criterion` to `rater`, model A on the left or right."""
        pair_id = self.pair(prompt, sample)
        video_a, video_b = self.db.execute(
            "SELECT video_a, video_b FROM pairs WHERE pair_id = ?", (pair_id,)
        ).fetchone()
        left, right = (video_a, video_b) if a_left else (video_b, video_a)
        task_id = secrets.token_urlsafe(12)
        position = self.positions.get(rater, 0)
        self.positions[rater] = position + 1
        self.db.execute(
            "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (task_id, rater, position, pair_id, criterion, left, right, repeat_of),
        )
        return task_id

    def vote(self, task_id: str, winner: str, voted_at: float = 1.0) -> None:
        """Record a vote for `winner` (a model name or "tie"), turned into the side it sits on."""
        rater, left = self.db.execute(
            "SELECT rater_id, left_video FROM tasks WHERE task_id = ?", (task_id,)
        ).fetchone()
        if winner == "tie":
            choice = "tie"
        else:
            (left_model,) = self.db.execute(
                "SELECT model FROM videos WHERE video_id = ?", (left,)
            ).fetchone()
            choice = "left" if winner == left_model else "right"
        self.db.execute("INSERT INTO votes VALUES (?, ?, ?, ?)", (task_id, rater, choice, voted_at))

    def judge(self, rater: int, prompt: str, criterion: str, winner: str, **task: object) -> str:
        """`task` then `vote` in one call; returns the task id."""
        task_id = self.task(rater, prompt, criterion, **task)  # type: ignore[arg-type]
        self.vote(task_id, winner)
        return task_id

    def close(self) -> Path:
        self.db.commit()
        self.db.close()
        return self.study_dir

    def __enter__(self) -> StudyBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
