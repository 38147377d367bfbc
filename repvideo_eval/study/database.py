"""Opening a study's SQLite database: WAL, full fsync, foreign keys; reading `meta`.

`synchronous=FULL` makes each commit durable on disk (not only against a killed server but against
a lost machine) before a vote is acknowledged; the server groups concurrent votes into one commit
so the fsync is paid once per batch, not once per vote.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from repvideo_eval.errors import UserError
from repvideo_eval.study.schema import DATABASE_NAME, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 10_000
#: The database holds the admin and rater tokens and which video is which model: owner only,
#: whatever the umask (the one exception to the project's shareable files). SQLite gives the
#: -wal and -shm files it creates the database file's mode.
PRIVATE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def connect(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with the study's pragmas."""
    connection = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=check_same_thread
    )
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


def database_path(study_dir: Path) -> Path:
    """Where the study folder keeps its database."""
    return Path(study_dir) / DATABASE_NAME


def make_private(study_dir: Path) -> None:
    """Set the database and its SQLite side files that exist to PRIVATE_MODE.

    For studies written before the database was private; `study create` writes it 0600.
    """
    path = database_path(study_dir)
    for file in [path, *(path.with_name(path.name + suffix) for suffix in SIDE_FILES)]:
        try:
            file.chmod(PRIVATE_MODE)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UserError(
                f"cannot make {file} private (owner-only, 0600): {exc.strerror}",
                "Run study serve as the user who created the study.",
            ) from None


def read_meta(connection: sqlite3.Connection) -> dict[str, Any]:
    """All `meta` rows, JSON-decoded."""
    return {
        key: json.loads(value) for key, value in connection.execute("SELECT key, value FROM meta")
    }


def open_study(study_dir: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open an existing study folder's database, or raise a UserError that says how to make one."""
    path = database_path(study_dir)
    if not path.is_file():
        raise UserError(
            f"{study_dir} is not a study folder (no {DATABASE_NAME})",
            "Create one first: run_eval.py study create RUN_DIR --models A,B --output STUDY_DIR.",
        )
    try:
        connection = connect(path, check_same_thread=check_same_thread)
        version = read_meta(connection).get("schema_version")
    except (sqlite3.DatabaseError, json.JSONDecodeError) as exc:
        raise UserError(
            f"{path} is not a readable study database ({exc})",
            "Recreate the study with run_eval.py study create.",
        ) from None
    if version != SCHEMA_VERSION:
        connection.close()
        raise UserError(
            f"{path} has schema version {version}, this version reads {SCHEMA_VERSION}",
            "Recreate the study with this version of repvideo-eval.",
        )
    return connection
