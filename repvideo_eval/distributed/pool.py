"""The driver's scheduling loop: a fixed number of actor slots fed from one queue.

Exactly one call is in flight per actor; `ray.wait` returns whichever finishes first and that
actor gets the next item, so faster GPUs simply do more items. Dead or misbehaving actors are
replaced; every start and outcome goes to the manifest before anything else happens.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import RayError

from repvideo_eval.errors import UserError

from .actor import RemoteStageActor
from .manifest import ManifestWriter
from .planning import WorkerPlan, can_host
from .progress import StageProgress
from .session import alive_node_ids, alive_node_resources

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0  # how often the driver wakes up with nothing finished (timeouts, bar, stalls)
STALL_CHECK_SECONDS = 30.0  # no worker alive this long: check whether any node can still host one
MAX_NODE_LOSSES_PER_ITEM = 5  # lost nodes do not use up attempts, but a loop must still end


class WorkerStartError(RuntimeError):
    """The worker class could not be constructed; carries the worker's own traceback."""


@dataclass
class _Slot:
    """One actor position; its actor is replaced when it dies or its worker misbehaves."""

    index: int
    actor: Any = None
    ready_ref: Any = None
    identity: dict[str, Any] | None = None
    busy: bool = False
    start_failures: int = 0
    retired: bool = False
    parked: bool = False  # failed before any worker ever started: wait to see whether any can
    kill_reason: str | None = None


@dataclass
class _Flight:
    slot: _Slot
    item: Any
    attempt: int
    submitted: float


@dataclass
class PoolCounts:
    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    restarts: int = 0


def _brief(exc: BaseException, limit: int = 400) -> str:
    """Ray's death notices are long; keep the type and the start (exit type, OOM hints)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:limit]}{'...' if len(text) > limit else ''}"


class StagePool:
    """The driver's scheduling loop over a fixed number of actor slots."""

    def __init__(
        self,
        stage: str,
        plan: WorkerPlan,
        num_workers: int,
        worker_cls: type,
        worker_kwargs: dict[str, Any],
        *,
        manifest: ManifestWriter,
        bar: StageProgress,
        prior_attempts: dict[str, int],
        max_attempts: int,
        item_timeout_s: float | None,
        restart_on_error: bool,
    ) -> None:
        self.stage = stage
        self.plan = plan
        self.worker_cls = worker_cls
        self.worker_kwargs = worker_kwargs
        self.manifest = manifest
        self.bar = bar
        self.prior_attempts = prior_attempts
        self.max_attempts = max_attempts
        self.item_timeout_s = item_timeout_s
        self.restart_on_error = restart_on_error
        self.slots = [_Slot(index=i) for i in range(num_workers)]
        self.queue: deque[Any] = deque()
        self.attempts: dict[str, int] = {}
        self.node_losses: dict[str, int] = {}
        self.inflight: dict[Any, _Flight] = {}
        self.starting: dict[Any, _Slot] = {}
        self.counts = PoolCounts()
        self.any_started = False
        self.last_alive = time.monotonic()

    # -- actors ---------------------------------------------------------------------------
    def _launch(self, slot: _Slot) -> None:
        options: dict[str, Any] = {
            "num_gpus": self.plan.num_gpus,
            "num_cpus": self.plan.num_cpus,
            "max_restarts": 0,
            "max_task_retries": 0,
        }
        if self.plan.spread:
            options["scheduling_strategy"] = "SPREAD"
        slot.actor = RemoteStageActor.options(**options).remote(self.worker_cls, self.worker_kwargs)
        slot.ready_ref = slot.actor.ready.remote()
        slot.identity, slot.busy, slot.kill_reason = None, False, None
        self.starting[slot.ready_ref] = slot

    def _replace(self, slot: _Slot) -> None:
        """Kill the slot's actor; start a fresh one now if work remains, else when it appears."""
        self._kill(slot)
        slot.identity, slot.busy = None, False
        if self.queue:
            self.counts.restarts += 1
            self._launch(slot)

    @staticmethod
    def _kill(slot: _Slot) -> None:
        if slot.actor is not None:
            try:
                ray.kill(slot.actor, no_restart=True)
            except (RayError, ValueError):
                pass  # already gone
        slot.actor = None

    def _alive_workers(self) -> int:
        return sum(1 for s in self.slots if s.identity is not None and not s.retired)

    # -- main loop ------------------------------------------------------------------------
    def run(self, todo: list[Any]) -> PoolCounts:
        self.queue.extend(todo)
        for slot in self.slots:
            self._launch(slot)
        try:
            while self.queue or self.inflight:
                self._dispatch()
                waitables = list(self.inflight) + list(self.starting)
                if not waitables:
                    raise WorkerStartError("no worker is left to run the remaining items")
                ready, _ = ray.wait(waitables, num_returns=1, timeout=TICK_SECONDS)
                for ref in ready:
                    if ref in self.starting:
                        self._on_ready(ref)
                    else:
                        self._on_result(ref)
                self._enforce_timeouts()
                self._check_stall()
                self.bar.set_workers(self._alive_workers())
        finally:
            for slot in self.slots:
                self._kill(slot)
        return self.counts

    def _dispatch(self) -> None:
        for slot in self.slots:
            if not self.queue:
                return
            if (
                slot.actor is None and not slot.retired and not slot.parked
            ):  # vacated, no work left then
                self.counts.restarts += 1
                self._launch(slot)
            if slot.identity is None or slot.busy or slot.retired:
                continue
            item = self.queue.popleft()
            self.attempts[item.key] = self.attempts.get(item.key, 0) + 1
            attempt = self.prior_attempts.get(item.key, 0) + self.attempts[item.key]
            ref = slot.actor.process.remote(item)
            slot.busy = True
            self.inflight[ref] = _Flight(slot, item, attempt, time.monotonic())
            self.manifest.append(
                "start", key=item.key, attempt=attempt,
                worker=slot.identity["worker"], node=slot.identity["node"],
            )  # fmt: skip

    # -- events ---------------------------------------------------------------------------
    def _on_ready(self, ref: Any) -> None:
        slot = self.starting.pop(ref)
        try:
            info = ray.get(ref)
        except RayError as exc:  # the process died while building (or unpickling) the worker
            info = {"init_error": {"error": f"worker process died while starting: {exc}",
                                   "traceback": "", "user_error": False}}  # fmt: skip
        error = info.get("init_error")
        if error is None:
            slot.identity, slot.start_failures = info, 0
            self.any_started = True
            self.last_alive = time.monotonic()
            for other in self.slots:
                other.parked = False  # the worker can start: parked slots get another go
            return
        if error["user_error"]:  # a user mistake does not go away by retrying
            raise UserError(error["error"].split(": ", 1)[-1])
        slot.start_failures += 1
        if not self.any_started:
            # Most likely a bug or bad settings that every worker will hit; but if one GPU is
            # broken and others work, the run should go on. Park until one worker starts.
            self._kill(slot)
            slot.parked = True
            if all(s.parked or s.retired for s in self.slots):
                raise WorkerStartError(
                    f"{self.worker_cls.__name__} could not be constructed: {error['error']}\n"
                    f"{error['traceback']}"
                )
            return
        if slot.start_failures >= self.max_attempts:
            log.error("worker slot %d gave up after %d failed starts: %s",
                      slot.index, slot.start_failures, error["error"])  # fmt: skip
            self._kill(slot)
            slot.retired = True
            if all(s.retired for s in self.slots):
                raise WorkerStartError(f"every worker failed to start; last: {error['error']}")
            return
        self._replace(slot)

    def _on_result(self, ref: Any) -> None:
        flight = self.inflight.pop(ref)
        slot, item = flight.slot, flight.item
        slot.busy = False
        identity = slot.identity or {}
        try:
            result = ray.get(ref)
        except RayError as exc:  # the actor died (or its result was lost with its node)
            lost = self._node_lost(identity.get("node"), exc)
            if slot.kill_reason:
                message = slot.kill_reason
            elif lost:
                message = "the worker's node was lost"
            else:
                message = f"the worker process died: {_brief(exc)}"
            if lost and self.node_losses.get(item.key, 0) < MAX_NODE_LOSSES_PER_ITEM:
                self.node_losses[item.key] = self.node_losses.get(item.key, 0) + 1
                self.attempts[item.key] -= 1  # not the item's fault
            self._record_error(flight, message, identity, seconds=None)
            self._replace(slot)
            return
        if result["ok"]:
            self.manifest.append(
                "done", key=item.key, attempt=flight.attempt, seconds=result["seconds"],
                wall_seconds=time.monotonic() - flight.submitted, worker=identity.get("worker"),
                node=identity.get("node"), gpus=identity.get("gpus"),
                metadata=result["metadata"], sync=True,
            )  # fmt: skip
            self.counts.done += 1
            self.bar.item_done()
            self.last_alive = time.monotonic()
            return
        self._record_error(flight, result["error"], identity, seconds=result["seconds"],
                           traceback_text=result.get("traceback"))  # fmt: skip
        if result.get("user_error"):  # as at start: a user mistake does not go away by retrying
            raise UserError(result["error"].split(": ", 1)[-1])
        if self.restart_on_error:
            self._replace(slot)

    def _record_error(
        self,
        flight: _Flight,
        message: str,
        identity: dict[str, Any],
        *,
        seconds: float | None,
        traceback_text: str | None = None,
    ) -> None:
        key = flight.item.key
        retry = self.attempts[key] < self.max_attempts
        self.manifest.append(
            "error", key=key, attempt=flight.attempt, error=message, retry=retry,
            seconds=seconds, wall_seconds=time.monotonic() - flight.submitted,
            worker=identity.get("worker"), node=identity.get("node"),
            traceback=traceback_text, sync=True,
        )  # fmt: skip
        if retry:
            log.warning("%s: %s failed (attempt %d), retrying: %s", self.stage, key,
                        flight.attempt, message)  # fmt: skip
            self.queue.append(flight.item)
        else:
            self.counts.failed.append((key, message))
            self.bar.item_failed()

    @staticmethod
    def _node_lost(node_id: str | None, exc: RayError) -> bool:
        if getattr(exc, "preempted", False) or "node has died" in str(exc).lower():
            return True
        return node_id is not None and node_id not in alive_node_ids()

    # -- watchdogs ------------------------------------------------------------------------
    def _enforce_timeouts(self) -> None:
        if self.item_timeout_s is None:
            return
        now = time.monotonic()
        for flight in self.inflight.values():
            slot = flight.slot
            if slot.kill_reason is None and now - flight.submitted > self.item_timeout_s:
                slot.kill_reason = f"timed out after {self.item_timeout_s:g} s"
                ray.kill(slot.actor, no_restart=True)  # its call now fails with RayActorError

    def _check_stall(self) -> None:
        """No worker alive for a while: fail fast if no node left can ever host one."""
        if self._alive_workers() > 0 or self.inflight:
            self.last_alive = time.monotonic()
            return
        if time.monotonic() - self.last_alive < STALL_CHECK_SECONDS:
            return
        self.last_alive = time.monotonic()
        if not can_host(self.plan, alive_node_resources()):
            raise UserError(
                f"stage {self.stage}: no node left in the Ray cluster can run a worker "
                f"({self.plan.num_gpus:g} GPU(s) each); {len(self.queue)} item(s) are not done",
                "Bring nodes back and rerun the same command: it resumes where this run stopped",
            )
