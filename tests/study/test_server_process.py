"""`study serve` as a real process: 50 concurrent raters, and kill -9 mid-study then restart.

Every acknowledged vote must be in the database exactly once, with the acknowledged choice, and
the study must complete.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from repvideo_eval.study.process import ServerProcess
from tests.study.conftest import rows
from tests.study.simulated_raters import Tally, run_raters


def tokens(study: Path) -> list[str]:
    return [t for (t,) in rows(study, "SELECT token FROM raters ORDER BY rater_id")]


def stored_votes(study: Path) -> dict[str, str]:
    """Votes as a fresh reader sees them (after a crash this runs SQLite's WAL recovery)."""
    connection = sqlite3.connect(study / "study.sqlite3")
    try:
        (count, distinct) = connection.execute(
            "SELECT COUNT(*), COUNT(DISTINCT task_id) FROM votes"
        ).fetchone()
        assert count == distinct
        return dict(connection.execute("SELECT task_id, choice FROM votes"))
    finally:
        connection.close()


def assert_complete(study: Path, tally: Tally) -> None:
    assert tally.unexpected == []
    votes = stored_votes(study)
    assert votes == tally.acknowledged, "every acknowledged vote, exactly once, as acknowledged"
    (tasks,) = rows(study, "SELECT COUNT(*) FROM tasks")[0]
    assert len(votes) == tasks, "the study completed"


@pytest.mark.timeout(180)
def test_fifty_concurrent_raters(make_study, tmp_path):
    study = make_study("--raters", "50", "--tasks-per-rater", "4", "--repeats", "1")
    tally = Tally()
    with ServerProcess(study, log=tmp_path / "server.log") as server:
        asyncio.run(run_raters(server.url, tokens(study), tally, resend=True))
    assert tally.transport_errors == 0
    (admin,) = rows(study, "SELECT json_extract(value, '$') FROM meta WHERE key = 'admin_token'")[0]
    assert f"{server.url}/admin/{admin}" in (tmp_path / "server.log").read_text()
    assert_complete(study, tally)


@pytest.mark.timeout(180)
def test_kill_9_mid_study_then_restart(make_study, tmp_path):
    study = make_study("--raters", "20", "--tasks-per-rater", "12", "--repeats", "2")
    (total,) = rows(study, "SELECT COUNT(*) FROM tasks")[0]
    tally = Tally()
    server = ServerProcess(study, log=tmp_path / "server.log").start()
    before_kill: dict[str, str] = {}

    async def crash_and_restart() -> None:
        while len(tally.acknowledged) < total // 3:
            await asyncio.sleep(0.01)
        server.kill()
        before_kill.update(tally.acknowledged)
        on_disk = await asyncio.to_thread(stored_votes, study)
        assert before_kill.items() <= on_disk.items(), "acknowledged before the kill: on disk"
        await asyncio.to_thread(server.start)  # same port; raters retry meanwhile

    async def study_with_crash() -> None:
        await asyncio.gather(run_raters(server.url, tokens(study), tally), crash_and_restart())

    try:
        asyncio.run(study_with_crash())
    finally:
        server.stop()
    assert total // 3 <= len(before_kill) < total, "the kill happened mid-study"
    assert tally.transport_errors > 0, "raters saw the server go away"
    assert_complete(study, tally)
