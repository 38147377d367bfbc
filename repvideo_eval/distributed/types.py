"""The contract between the stage executor and the code it runs.

The executor is generic: it knows nothing about diffusers or VBench. A stage is a list of work
items plus a worker class; these types are all the two sides share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class WorkItem(Protocol):
    """One unit of work: a frozen, picklable dataclass with a unique, filesystem-safe `key`."""

    key: str


class Worker(Protocol):
    """Constructed once per actor (so a model loads once per GPU), then fed items one by one.

    `process` writes its outputs itself, through `repvideo_eval.atomic` (a rerun skips an item
    iff its outputs are on disk), and returns JSON-able metadata that the manifest logs.
    """

    def __init__(self, **kwargs: Any) -> None: ...

    def process(self, item: Any) -> dict: ...


@dataclass(frozen=True)
class Resources:
    """Where and how wide a stage runs.

    num_gpus: GPUs to use; None = every GPU Ray sees (CPU workers when it sees none); 0 = CPU workers.
    gpus_per_worker: GPUs per actor (fractions below 1 share a GPU; above 1 must be whole numbers).
    num_cpu_workers: CPU actors when running without GPUs; None = one per Ray node.
    ray_address: None starts a local Ray; "auto" (or host:port) joins an existing cluster.
    """

    num_gpus: int | None = None
    gpus_per_worker: float = 1.0
    num_cpu_workers: int | None = None
    ray_address: str | None = None


@dataclass
class StageSummary:
    """What one `run_stage` call achieved; `ok` is False when any item failed for good."""

    stage: str
    total: int
    done: int
    skipped: int
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    num_workers: int = 0
    worker_restarts: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and self.done + self.skipped == self.total
