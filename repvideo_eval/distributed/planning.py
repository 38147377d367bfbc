"""Turn `Resources` plus the cluster's nodes into a worker plan, or a clear UserError.

Kept free of Ray calls (it takes the nodes' resource totals) so every rule is unit-testable, and
so an impossible request fails at once instead of leaving actors pending forever.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repvideo_eval.errors import UserError

from .types import Resources

_EPS = 1e-9


@dataclass(frozen=True)
class WorkerPlan:
    """How many actors to start and what each one asks Ray for."""

    num_workers: int
    num_gpus: float  # per actor
    num_cpus: float  # per actor
    spread: bool  # place actors on distinct nodes where possible (CPU workers)

    @property
    def uses_gpus(self) -> bool:
        return self.num_gpus > 0


def _check_request(resources: Resources) -> None:
    gpw = resources.gpus_per_worker
    if not gpw > 0:
        raise UserError(f"--gpus-per-worker must be above 0, got {gpw}", "Use e.g. 1 or 0.5")
    if gpw > 1 and abs(gpw - round(gpw)) > _EPS:
        raise UserError(
            f"--gpus-per-worker {gpw} is not possible: above 1 it must be a whole number",
            "Use 0.5, 1, 2, ...",
        )
    if resources.num_gpus is not None and resources.num_gpus < 0:
        raise UserError(f"--num-gpus must be 0 or more, got {resources.num_gpus}", None)
    if resources.num_cpu_workers is not None and resources.num_cpu_workers < 1:
        raise UserError(
            f"the number of CPU workers must be at least 1, got {resources.num_cpu_workers}",
            None,
        )


def workers_per_node(node_gpus: float, gpus_per_worker: float) -> int:
    """Actors of `gpus_per_worker` GPUs that fit on one node (Ray never splits an actor)."""
    return int(math.floor(node_gpus / gpus_per_worker + _EPS))


def plan_workers(resources: Resources, nodes: Sequence[Mapping[str, float]]) -> WorkerPlan:
    """Decide the actors for a stage from the totals of the alive nodes (`ray.nodes()` resources)."""
    _check_request(resources)
    gpw = float(resources.gpus_per_worker)
    node_gpus = [float(node.get("GPU", 0.0)) for node in nodes]
    cluster_gpus = sum(node_gpus)
    wants_cpu = resources.num_gpus == 0 or (resources.num_gpus is None and cluster_gpus == 0)
    if wants_cpu:
        return _plan_cpu(resources, nodes)
    if cluster_gpus == 0:
        raise UserError(
            f"asked for {resources.num_gpus} GPU(s) but the Ray cluster has no GPU",
            "Run on a GPU machine or join a cluster with GPU nodes (--ray-address auto), "
            "or pass --num-gpus 0 to use CPU workers",
        )
    largest = max(node_gpus)
    if gpw > largest + _EPS:
        raise UserError(
            f"--gpus-per-worker {gpw:g} is more than any node has (largest node: {largest:g} GPU(s))",
            f"Use --gpus-per-worker {largest:g} or less",
        )
    capacity = sum(workers_per_node(gpus, gpw) for gpus in node_gpus)
    if resources.num_gpus is None:
        count = capacity
    else:
        if resources.num_gpus > cluster_gpus + _EPS:
            raise UserError(
                f"asked for {resources.num_gpus} GPU(s) but the Ray cluster has {cluster_gpus:g}",
                f"Use --num-gpus {int(cluster_gpus)} or less, or leave it out to use them all",
            )
        count = min(capacity, workers_per_node(resources.num_gpus, gpw))
        if count == 0:
            raise UserError(
                f"--num-gpus {resources.num_gpus} with --gpus-per-worker {gpw:g} makes no worker",
                "Raise --num-gpus or lower --gpus-per-worker",
            )
    return WorkerPlan(
        num_workers=count, num_gpus=gpw, num_cpus=_cpu_share(nodes, gpw), spread=False
    )


def _cpu_share(nodes: Sequence[Mapping[str, float]], gpus_per_worker: float) -> float:
    """Whole CPUs per GPU worker: its share of the leanest GPU node (Ray sets its thread count,
    OMP_NUM_THREADS, from this; 0 would mean one thread for decoding and encoding video)."""
    ratios = [float(n.get("CPU", 0.0)) / float(n["GPU"]) for n in nodes if n.get("GPU", 0.0) > 0]
    return float(math.floor(min(ratios) * gpus_per_worker + _EPS))


def _plan_cpu(resources: Resources, nodes: Sequence[Mapping[str, float]]) -> WorkerPlan:
    cpu_nodes = [float(node.get("CPU", 0.0)) for node in nodes if node.get("CPU", 0.0) > 0]
    if not cpu_nodes:
        raise UserError("the Ray cluster has no node with a CPU to run workers on", None)
    count = resources.num_cpu_workers or len(cpu_nodes)
    # An even share of the cores, small enough to fit on the smallest node (Ray takes at most 4
    # decimals); Ray sets each worker's thread count from it.
    share = min(min(cpu_nodes), sum(cpu_nodes) / count)
    per_worker = float(math.floor(share)) if share >= 1 else math.floor(share * 10_000) / 10_000
    return WorkerPlan(num_workers=count, num_gpus=0.0, num_cpus=per_worker, spread=True)


def can_host(plan: WorkerPlan, nodes: Sequence[Mapping[str, float]]) -> bool:
    """Whether at least one alive node could still place one actor of `plan`."""
    if plan.uses_gpus:
        return any(float(n.get("GPU", 0.0)) + _EPS >= plan.num_gpus for n in nodes)
    return any(float(n.get("CPU", 0.0)) > 0 for n in nodes)
