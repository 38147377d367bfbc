"""The log of a stage: an append-only JSON Lines file, one event per line.

It records attempts, errors and timings; it is never needed to skip work (completion is read from
each item's files, `executor.split_complete`).

Why JSONL and not sqlite: the driver is the only writer, so no database locking is needed; an
append of one line is the whole transaction, and a line torn by `kill -9` is simply skipped on
read; the file is readable with `tail`/`grep`/pandas while a run goes on; and it works on the
NFS/Lustre home folders of Slurm clusters, where sqlite's file locks are unreliable. Reading
folds the events of each key into one `ItemState` (the last event wins).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from repvideo_eval.errors import UserError

MANIFEST_VERSION = 1

# Item statuses as read back from the file.
DONE = "done"
FAILED = "failed"
STARTED = "started"  # a start with no outcome: the attempt was interrupted (or is still running)
RETRYING = "retrying"  # the last attempt raised or its worker died; more attempts were allowed

# The event a rerun logs for an item it found complete on disk with no recorded success (the
# driver died after the worker wrote the outputs); it reads back as DONE.
FOUND = "found"


@dataclass
class ItemState:
    """Everything the manifest knows about one item of one stage."""

    key: str
    stage: str
    status: str
    attempts: int = 0
    error: str | None = None
    metadata: dict[str, Any] | None = None
    seconds: float | None = None  # time inside Worker.process for the attempt that finished it
    total_seconds: float = 0.0  # summed over every recorded attempt, failed ones included
    worker: str | None = None
    node: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    errors: list[str] = field(default_factory=list)


class ManifestWriter:
    """Appends events for one stage; holds an exclusive lock so two drivers cannot interleave."""

    def __init__(self, path: Path, stage: str) -> None:
        self.path = Path(path)
        self.stage = stage
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(
                f"cannot write the manifest {self.path}: {exc.strerror}",
                "Choose an output folder you can write to",
            ) from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise UserError(
                f"another run is writing {self.path} right now",
                "Wait for it to finish or give this run another output folder",
            ) from None
        self._end_torn_line()

    def _end_torn_line(self) -> None:
        """If a killed driver left half a line, start the next record on a fresh line."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                os.write(self._fd, b"\n")

    def append(self, event: str, *, sync: bool = False, **fields: Any) -> None:
        """Write one event as one line; `sync` forces it to disk (outcomes, not starts)."""
        record = {"v": MANIFEST_VERSION, "event": event, "stage": self.stage, "ts": time.time()}
        record.update(fields)
        os.write(self._fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
        if sync:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ManifestWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_events(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the parsed events of a manifest, skipping lines torn by a crash."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        return
    with handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                continue  # the last line of a killed writer
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and "event" in record:
                yield record


def read_manifest(path: Path, stage: str | None = None) -> dict[str, ItemState]:
    """Fold a manifest into one `ItemState` per key (of `stage`, or of the only stage present)."""
    states: dict[str, ItemState] = {}
    seen_stages: set[str] = set()
    for record in iter_events(Path(path)):
        key = record.get("key")
        record_stage = record.get("stage", "")
        if key is None or (stage is not None and record_stage != stage):
            continue
        seen_stages.add(record_stage)
        state = states.get(key)
        if state is None:
            state = states[key] = ItemState(key=key, stage=record_stage, status=STARTED)
        _apply(state, record)
    if stage is None and len(seen_stages) > 1:
        raise ValueError(f"{path} holds several stages {sorted(seen_stages)}; pass stage=")
    return states


def _apply(state: ItemState, record: dict[str, Any]) -> None:
    event = record["event"]
    state.attempts = max(state.attempts, int(record.get("attempt", 0)))
    state.worker = record.get("worker", state.worker)
    state.node = record.get("node", state.node)
    if event == "start":
        state.status = STARTED
        state.started_at = record.get("ts")
        state.finished_at = None
        return
    if event == FOUND:
        state.status = DONE
        state.error = None
        return
    seconds = record.get("seconds")
    if seconds is not None:
        state.total_seconds += float(seconds)
    state.finished_at = record.get("ts")
    if event == "done":
        state.status = DONE
        state.error = None
        state.metadata = record.get("metadata") or {}
        state.seconds = seconds
    elif event == "error":
        state.error = record.get("error")
        state.errors.append(state.error or "")
        state.status = RETRYING if record.get("retry") else FAILED
        state.metadata = None
