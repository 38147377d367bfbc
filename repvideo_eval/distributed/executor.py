"""`run_stage`: spread a list of work items over Ray actors, resumably and fault-tolerantly.

One actor per GPU (or per `gpus_per_worker`), each building its worker once. The driver keeps
exactly one call in flight per actor and hands the next item to whichever actor finishes first
(`ray.wait`), so fast and slow GPUs balance themselves. Every start and outcome is appended to
the manifest; a rerun skips what is complete and finishes the rest.

Completion is a fact about files: given `is_complete`, an item is skipped iff its outputs are on
disk, whatever the manifest says. The manifest is a log of attempts, errors and timings; a driver
killed after a worker finished an item but before the outcome was logged loses no work.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ray

from .manifest import DONE, FOUND, ItemState, ManifestWriter, read_manifest
from .planning import plan_workers
from .pool import PoolCounts, StagePool, WorkerStartError
from .progress import StageProgress
from .session import alive_node_resources, ray_session
from .types import Resources, StageSummary

__all__ = ["WorkerStartError", "run_stage", "split_complete"]


def _check_items(items: Sequence[Any]) -> None:
    seen: set[str] = set()
    for item in items:
        key = getattr(item, "key", None)
        if not isinstance(key, str) or not key:
            raise ValueError(f"work item {item!r} has no string `key`")
        if key in seen:
            raise ValueError(f"two work items share the key {key!r}")
        seen.add(key)


def split_complete(
    items: Sequence[Any],
    previous: dict[str, ItemState],
    is_complete: Callable[[Any], bool] | None,
) -> tuple[list[Any], list[Any]]:
    """(to do, already complete): complete iff `is_complete(item)`, from the item's files alone.

    Only a stage without outputs to look at (no `is_complete`) falls back on the manifest's
    record of a finished attempt.
    """
    todo: list[Any] = []
    complete: list[Any] = []
    for item in items:
        if is_complete is not None:
            finished = is_complete(item)
        else:
            state = previous.get(item.key)
            finished = state is not None and state.status == DONE
        (complete if finished else todo).append(item)
    return todo, complete


def run_stage(
    stage: str,
    items: Sequence[Any],
    worker_cls: type,
    worker_kwargs: dict[str, Any],
    *,
    manifest_path: Path,
    resources: Resources,
    is_complete: Callable[[Any], bool] | None = None,
    max_attempts: int = 3,
    progress: bool = True,
    item_timeout_s: float | None = None,
    restart_on_error: bool = True,
) -> StageSummary:
    """Run `worker_cls(**worker_kwargs).process(item)` for every item not already complete.

    Resumable (manifest at `manifest_path`), retries each item up to `max_attempts` times in
    this run, replaces actors whose process dies (and, with `restart_on_error`, whose worker
    raised: a CUDA error can leave a model unusable), kills an item's actor after
    `item_timeout_s`. Returns a summary; items that kept failing are listed, not raised.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    items = list(items)
    _check_items(items)
    started = time.monotonic()
    manifest_path = Path(manifest_path)
    with ManifestWriter(manifest_path, stage) as manifest:
        previous = read_manifest(manifest_path, stage)
        todo, complete = split_complete(items, previous, is_complete)
        for item in complete:  # finished on disk, but its outcome never reached the log
            state = previous.get(item.key)
            if state is None or state.status != DONE:
                manifest.append(FOUND, key=item.key)
        counts, workers = PoolCounts(), 0
        if not todo:
            StageProgress(stage, len(items), len(complete), enabled=progress).close()
        else:
            with ray_session(resources):
                nodes = alive_node_resources()
                plan = plan_workers(resources, nodes)  # impossible requests fail before the bar
                workers = min(plan.num_workers, len(todo))
                manifest.append(
                    "run", total=len(items), todo=len(todo), skipped=len(complete),
                    workers=workers, gpus_per_worker=plan.num_gpus, cpus_per_worker=plan.num_cpus,
                    nodes=len(nodes), cluster_gpus=sum(n.get("GPU", 0.0) for n in nodes),
                    driver=f"{socket.gethostname()}:{os.getpid()}", ray_version=ray.__version__,
                )  # fmt: skip
                bar = StageProgress(stage, len(items), len(complete), enabled=progress)
                try:
                    pool = StagePool(
                        stage, plan, workers, worker_cls, worker_kwargs, manifest=manifest,
                        bar=bar, prior_attempts={k: s.attempts for k, s in previous.items()},
                        max_attempts=max_attempts, item_timeout_s=item_timeout_s,
                        restart_on_error=restart_on_error,
                    )  # fmt: skip
                    counts = pool.run(todo)
                finally:
                    bar.close()
        summary = StageSummary(
            stage=stage, total=len(items), done=counts.done, skipped=len(complete),
            failed=counts.failed, seconds=time.monotonic() - started,
            num_workers=workers, worker_restarts=counts.restarts,
        )  # fmt: skip
        manifest.append(
            "end", done=summary.done, skipped=summary.skipped, failed=len(summary.failed),
            seconds=summary.seconds, sync=True,
        )  # fmt: skip
        return summary
