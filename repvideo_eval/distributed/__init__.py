"""Ray distribution: a generic, resumable, fault-tolerant stage executor.

`evaluation.py` plugs the generation worker (`generation.worker`) and the static-filter and
scoring workers (`stages.py`) into `run_stage`; this package knows nothing about diffusers or
VBench. See docs/distributed.md.
"""

from .executor import WorkerStartError, run_stage, split_complete
from .manifest import ItemState, read_manifest
from .planning import WorkerPlan, plan_workers
from .session import ray_session
from .types import Resources, StageSummary, Worker, WorkItem

__all__ = [
    "ItemState",
    "Resources",
    "StageSummary",
    "WorkItem",
    "Worker",
    "WorkerPlan",
    "WorkerStartError",
    "plan_workers",
    "ray_session",
    "read_manifest",
    "run_stage",
    "split_complete",
]
