"""The server's in-memory view of a study: the plan (fixed at creation) and the committed votes.

One server process owns a study. The plan never changes, so it is read once at start-up; votes are
read once and then updated only after their commit, so every answer the API gives reflects the
database. Lookups by token, task id and video id are dictionary hits.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from repvideo_eval.errors import UserError
from repvideo_eval.study.database import read_meta
from repvideo_eval.study.paths import is_inside


@dataclass(frozen=True)
class Task:
    """What a rater is shown for one task (never the models)."""

    task_id: str
    rater_id: int
    position: int
    prompt: str
    criterion: str
    left_video: str
    right_video: str


@dataclass
class StudyState:
    """Plan and votes of one study, indexed for the API."""

    criteria: list[str]
    allow_ties: bool
    admin_token: str
    tokens: dict[str, int]
    rater_tokens: dict[int, str]
    tasks: dict[str, Task]
    sequence: dict[int, list[str]]
    videos: dict[str, Path]
    votes: dict[str, str] = field(default_factory=dict)
    last_vote_at: dict[int, float] = field(default_factory=dict)
    _cursor: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, connection: sqlite3.Connection) -> StudyState:
        meta = read_meta(connection)
        rater_tokens = dict(connection.execute("SELECT rater_id, token FROM raters"))
        tasks: dict[str, Task] = {}
        sequence: dict[int, list[str]] = {rater: [] for rater in rater_tokens}
        rows = connection.execute(
            "SELECT t.task_id, t.rater_id, t.position, p.prompt, t.criterion, t.left_video, "
            "t.right_video FROM tasks t JOIN pairs p ON p.pair_id = t.pair_id "
            "ORDER BY t.rater_id, t.position"
        )
        for row in rows:
            task = Task(*row)
            tasks[task.task_id] = task
            sequence[task.rater_id].append(task.task_id)
        state = cls(
            criteria=list(meta["criteria"]),
            allow_ties=bool(meta["allow_ties"]),
            admin_token=str(meta["admin_token"]),
            tokens={token: rater for rater, token in rater_tokens.items()},
            rater_tokens=rater_tokens,
            tasks=tasks,
            sequence=sequence,
            videos=_planned_videos(connection, [Path(str(run)) for run in meta.get("runs") or []]),
        )
        for task_id, rater_id, choice, voted_at in connection.execute(
            "SELECT task_id, rater_id, choice, voted_at FROM votes"
        ):
            state.record(task_id, rater_id, choice, voted_at)
        return state

    def record(self, task_id: str, rater_id: int, choice: str, voted_at: float) -> None:
        """Mirror a committed vote."""
        self.votes[task_id] = choice
        self.last_vote_at[rater_id] = max(voted_at, self.last_vote_at.get(rater_id, 0.0))

    def next_task(self, rater_id: int) -> Task | None:
        """The rater's first unanswered task in plan order, or None when all are answered."""
        order = self.sequence[rater_id]
        cursor = self._cursor.get(rater_id, 0)
        while cursor < len(order) and order[cursor] in self.votes:
            cursor += 1
        self._cursor[rater_id] = cursor
        return self.tasks[order[cursor]] if cursor < len(order) else None

    def progress(self, rater_id: int) -> tuple[int, int]:
        """(answered, total) for one rater."""
        order = self.sequence[rater_id]
        return sum(1 for task_id in order if task_id in self.votes), len(order)


def _planned_videos(connection: sqlite3.Connection, runs: list[Path]) -> dict[str, Path]:
    """Video id -> file, each checked once at start to lie inside one of the study's runs.

    `study create` admits only such files; this catches a database made or edited otherwise,
    and a video swapped for a symlink out of its run after the study was created.
    """
    videos = {}
    for video_id, path in connection.execute("SELECT video_id, path FROM videos"):
        if not any(is_inside(Path(path), run) for run in runs):
            raise UserError(
                f"the study lists video {path}, which is outside its run folders",
                "Recreate the study with run_eval.py study create from the run folders.",
            )
        videos[video_id] = Path(path)
    return videos
