"""The study database and its WAL/SHM files are 0600 whatever the umask: they hold the admin and
rater tokens and which video is which model (the one exception to "files follow the umask")."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from repvideo_eval.study.app import create_app
from tests.study.conftest import create, rows

DATABASE_FILES = ("study.sqlite3", "study.sqlite3-wal", "study.sqlite3-shm")


def wait_for_files(study: Path, seconds: float = 10.0) -> None:
    """The server's writer thread opens the database (and SQLite makes -wal/-shm) on its own
    schedule: wait for the files rather than race it."""
    import time

    deadline = time.monotonic() + seconds
    while not all((study / name).exists() for name in DATABASE_FILES):
        if time.monotonic() > deadline:
            return  # the mode check then names what is missing
        time.sleep(0.05)


def modes(study: Path) -> dict[str, int]:
    return {
        name: stat.S_IMODE((study / name).stat().st_mode)
        for name in DATABASE_FILES
        if (study / name).exists()
    }


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_database_and_wal_files_are_private(small_run, tmp_path, umask):
    study = tmp_path / "study"
    assert create([small_run], study, "--raters", "1") == 0
    assert modes(study) == {"study.sqlite3": 0o600}
    token = rows(study, "SELECT token FROM raters")[0][0]
    with TestClient(create_app(study)) as client:
        task = client.get("/api/next", params={"token": token}).json()
        body = {"token": token, "task_id": task["task_id"], "choice": "left"}
        assert client.post("/api/vote", json=body).status_code == 200
        assert modes(study) == dict.fromkeys(DATABASE_FILES, 0o600)
    assert set(modes(study).values()) == {0o600}


def test_serve_tightens_a_study_made_before_the_rule(make_study, small_run, umask):
    study = make_study("--raters", "1", run=small_run)
    os.chmod(study / "study.sqlite3", 0o644)
    with TestClient(create_app(study)) as client:
        assert client.get("/healthz").status_code == 200
        wait_for_files(study)
        assert modes(study) == dict.fromkeys(DATABASE_FILES, 0o600)
