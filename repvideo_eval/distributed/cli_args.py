"""The Ray flags of the CLI: `add_ray_arguments(parser)` and `resources_from_args(args)`."""

from __future__ import annotations

import argparse

from repvideo_eval.errors import UserError

from .types import Resources


def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --num-gpus, --gpus-per-worker, --num-cpu-workers and --ray-address to `parser`."""
    group = parser.add_argument_group("distribution (Ray)")
    group.add_argument(
        "--num-gpus", type=int, default=None, metavar="N",
        help="GPUs to use (default: every GPU Ray sees; 0 = CPU workers)",
    )  # fmt: skip
    group.add_argument(
        "--gpus-per-worker", type=float, default=1.0, metavar="G",
        help="GPUs per worker actor; 0.5 puts two workers on one GPU (default: 1)",
    )  # fmt: skip
    group.add_argument(
        "--num-cpu-workers", type=int, default=None, metavar="N",
        help="CPU worker actors when running without GPUs (default: one per Ray node)",
    )  # fmt: skip
    group.add_argument(
        "--ray-address", default=None, metavar="ADDR",
        help="join an existing Ray cluster ('auto' after `ray start`, or HOST:PORT); "
        "default: start a local Ray",
    )  # fmt: skip


def resources_from_args(args: argparse.Namespace) -> Resources:
    """Build `Resources` from parsed flags, rejecting impossible values with a UserError."""
    num_gpus = getattr(args, "num_gpus", None)
    gpus_per_worker = getattr(args, "gpus_per_worker", 1.0)
    num_cpu_workers = getattr(args, "num_cpu_workers", None)
    address = getattr(args, "ray_address", None)
    if num_gpus is not None and num_gpus < 0:
        raise UserError(f"--num-gpus must be 0 or more, got {num_gpus}", None)
    if not gpus_per_worker > 0:
        raise UserError(f"--gpus-per-worker must be above 0, got {gpus_per_worker}", "Use e.g. 1")
    if gpus_per_worker > 1 and gpus_per_worker != int(gpus_per_worker):
        raise UserError(
            f"--gpus-per-worker {gpus_per_worker} is not possible above 1 unless whole",
            "Use 0.5, 1, 2, ...",
        )
    if num_cpu_workers is not None and num_cpu_workers < 1:
        raise UserError(f"--num-cpu-workers must be at least 1, got {num_cpu_workers}", None)
    if address is not None and not address.strip():
        raise UserError("--ray-address is empty", "use 'auto' or HOST:PORT, or leave it out")
    return Resources(
        num_gpus=num_gpus,
        gpus_per_worker=gpus_per_worker,
        num_cpu_workers=num_cpu_workers,
        ray_address=address.strip() if address else None,
    )
