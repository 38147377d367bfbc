"""One `study serve` per study folder: an exclusive lock held for the server's lifetime.

The server keeps the plan and the committed votes in memory and is the study's only writer, so
a second server on the same folder would hand out pairs the first does not know about. The lock
is `flock` on an empty file in the folder; the kernel releases it when the holder exits, however
it exits (kill -9 included), so a restart never finds a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from repvideo_eval.errors import UserError

LOCK_NAME = ".serve.lock"


def hold_serve_lock(study_dir: Path) -> IO[bytes]:
    """Lock `study_dir` for one server; keep the returned file open while serving."""
    path = Path(study_dir) / LOCK_NAME
    handle = open(path, "ab")  # held open for the server's lifetime; nothing is written
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UserError(
            f"{study_dir} is already being served by another `study serve` process",
            "Use the running server (its admin page lists every rater's link), or stop it first.",
        ) from None
    os.set_inheritable(handle.fileno(), False)
    return handle
