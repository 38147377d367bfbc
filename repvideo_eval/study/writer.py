"""The one writer of votes: a thread that commits every vote waiting at once in one transaction.

SQLite allows one writer, and a durable commit costs an fsync (several ms). Votes that arrive
while a commit is in progress are queued and committed together in the next transaction ("group
commit"), so throughput grows with load while each vote is still on disk before its request is
answered. A vote is an INSERT that never overwrites: the existing choice comes back instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from repvideo_eval.study.database import connect

MAX_BATCH = 512
#: Called on the event loop with (task_id, rater_id, result) for every committed vote, even when
#: its client has gone away, so the server's in-memory mirror never misses a vote.
OnCommit = Callable[[str, int, "VoteResult"], None]


@dataclass(frozen=True)
class VoteResult:
    """`stored` is the choice in the database for the task after the commit; `new` if ours."""

    stored: str
    new: bool
    voted_at: float


@dataclass
class _Request:
    task_id: str
    rater_id: int
    choice: str
    future: asyncio.Future[VoteResult]
    loop: asyncio.AbstractEventLoop


class VoteWriter:
    """Start with `start()`, submit with `await submit(...)`, stop with `close()`."""

    def __init__(self, database: Path, on_commit: OnCommit) -> None:
        self._database = database
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="study-vote-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    async def submit(self, task_id: str, rater_id: int, choice: str) -> VoteResult:
        """Return once the vote (or the earlier vote for this task) is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[VoteResult] = loop.create_future()
        self._queue.put(_Request(task_id, rater_id, choice, future, loop))
        return await future

    def _run(self) -> None:
        connection = connect(self._database, check_same_thread=True)
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                while len(batch) < MAX_BATCH:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                self._commit(connection, batch)
                if stop:
                    return
        finally:
            connection.close()

    def _commit(self, connection: sqlite3.Connection, batch: list[_Request]) -> None:
        results: list[VoteResult] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            now = time.time()
            for request in batch:
                inserted = connection.execute(
                    "INSERT INTO votes (task_id, rater_id, choice, voted_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (task_id) DO NOTHING",
                    (request.task_id, request.rater_id, request.choice, now),
                ).rowcount
                if inserted:
                    results.append(VoteResult(request.choice, True, now))
                else:
                    stored, at = connection.execute(
                        "SELECT choice, voted_at FROM votes WHERE task_id = ?", (request.task_id,)
                    ).fetchone()
                    results.append(VoteResult(stored, False, at))
            connection.execute("COMMIT")
        except Exception as error:  # noqa: BLE001 - every waiting request must get an answer
            if connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            for request in batch:
                _settle(request, error=error)
            return
        for request, result in zip(batch, results):
            _settle(request, result=result, on_commit=self._on_commit)


def _settle(
    request: _Request,
    *,
    result: VoteResult | None = None,
    error: BaseException | None = None,
    on_commit: OnCommit | None = None,
) -> None:
    def apply() -> None:
        if result is not None and on_commit is not None:
            on_commit(request.task_id, request.rater_id, result)
        if request.future.done():  # the client went away; the vote is committed all the same
            return
        if error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(result)  # type: ignore[arg-type]

    try:
        request.loop.call_soon_threadsafe(apply)
    except RuntimeError:  # the loop is closed: the server is shutting down
        pass
