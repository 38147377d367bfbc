"""Every file and published folder the project writes goes through here.

Three promises, for every stage (videos, sidecars, score records, tables, reports, weight files,
caches):

- Whole or absent: content is written under a temporary name in the same folder and renamed into
  place, so a write interrupted half-way never leaves a file that a reader, or a resumed run,
  could mistake for a complete one.
- No fixed temporary names: each writer gets its own temporary name, so two processes filling the
  same cache entry at once both succeed and one complete file remains.
- Shareable: results get the permissions the user's umask gives any new file (0644 and 0755 under
  umask 022), not the private 0600/0700 of `tempfile`, so colleagues on a shared cluster can read
  a run and serve its gallery. The one exception is a file that holds secrets (the study
  database: tokens and which video is which model), written with an explicit `mode` of 0600.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (no race with threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def shared_file_mode() -> int:
    """What `open()` would give a new file: 0o666 less the umask."""
    return 0o666 & ~current_umask()


def shared_dir_mode() -> int:
    """What `mkdir` would give a new folder: 0o777 less the umask."""
    return 0o777 & ~current_umask()


class AtomicFile:
    """A file built under a unique temporary name, then moved onto `path` by `commit`.

    For writes that happen in several steps (a CSV appended piece by piece, a download): write to
    `temp`, then `commit()`; `discard()` (or leaving a `with` block by an exception) removes it.
    """

    def __init__(self, path: Path, *, mode: int | None = None) -> None:
        self.path = Path(path)
        self.mode = mode  # None: the umask's shared mode; e.g. 0o600 for a file holding secrets
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp" + self.path.suffix, dir=self.path.parent
        )
        os.close(fd)
        self.temp = Path(name)
        self.finished = False  # committed or discarded: `temp` is gone

    def commit(self) -> Path:
        """Give the temp file the umask's permissions (or `mode`) and rename it onto `path`."""
        if self.finished:
            raise RuntimeError(f"{self.path}: already committed or discarded")
        os.chmod(self.temp, shared_file_mode() if self.mode is None else self.mode)
        os.replace(self.temp, self.path)
        self.finished = True
        return self.path

    def discard(self) -> None:
        if not self.finished:
            self.temp.unlink(missing_ok=True)
            self.finished = True

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None and not self.finished:
            self.commit()
        else:
            self.discard()


def write_with_atomic(
    path: Path, writer: Callable[[Path], object], *, mode: int | None = None
) -> Path:
    """Call `writer(tmp_path)` (e.g. matplotlib's savefig) and move the result onto `path`.

    The temporary file starts private (0600, from mkstemp); `mode` replaces the umask's mode.
    """
    with AtomicFile(path, mode=mode) as atomic:
        writer(atomic.temp)
    return atomic.path


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` so that readers see either the old file or the complete new one."""
    return write_with_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text_atomic(path: Path, text: str) -> Path:
    """UTF-8 text version of `write_bytes_atomic`."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(
    data: Mapping[str, Any] | list[Any], path: Path, *, indent: int = 2, sort_keys: bool = True
) -> Path:
    """The project's JSON files: UTF-8, indented, keys sorted, newline-terminated."""
    text = json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=False)
    return write_text_atomic(Path(path), text + "\n")


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Fill a unique temporary folder beside `path`, then rename it onto `path` in one step.

    For outputs that are a folder (a converted checkpoint). Raises FileExistsError, leaving the
    existing folder untouched, when `path` appeared meanwhile (e.g. another process published the
    same entry first); the caller decides whether that is a success.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    published = False
    try:
        yield temp
        os.chmod(temp, shared_dir_mode())
        try:
            os.rename(temp, path)  # replaces only an empty folder; never a filled one
        except OSError as error:
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                raise FileExistsError(errno.EEXIST, "already exists", str(path)) from None
            raise
        published = True
    finally:
        if not published:
            shutil.rmtree(temp, ignore_errors=True)
