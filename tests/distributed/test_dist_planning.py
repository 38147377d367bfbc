"""Worker planning and the CLI flags: impossible requests fail fast with a UserError."""

from __future__ import annotations

import argparse
import time

import pytest
from dist_workers import FileWorker, Item

from repvideo_eval.distributed import Resources, plan_workers, run_stage
from repvideo_eval.distributed.cli_args import add_ray_arguments, resources_from_args
from repvideo_eval.distributed.planning import can_host
from repvideo_eval.errors import UserError

EIGHT_GPU_NODE = {"CPU": 96.0, "GPU": 8.0}
CPU_NODE = {"CPU": 16.0}


def test_one_worker_per_gpu_over_every_node() -> None:
    plan = plan_workers(Resources(), [EIGHT_GPU_NODE, EIGHT_GPU_NODE, CPU_NODE])
    assert (plan.num_workers, plan.num_gpus, plan.num_cpus) == (16, 1.0, 12.0)  # 96 CPUs / 8 GPUs


def test_gpu_workers_get_whole_cpus_of_the_leanest_gpu_node() -> None:
    nodes = [{"CPU": 96.0, "GPU": 8.0}, {"CPU": 20.0, "GPU": 4.0}]
    assert plan_workers(Resources(), nodes).num_cpus == 5.0
    assert plan_workers(Resources(gpus_per_worker=2), nodes).num_cpus == 10.0
    assert plan_workers(Resources(), [{"CPU": 2.0, "GPU": 4.0}]).num_cpus == 0.0  # none to spare


def test_gpus_per_worker_counts_per_node() -> None:
    # 2 GPUs per worker: a 3-GPU node fits one worker, not 1.5
    plan = plan_workers(Resources(gpus_per_worker=2), [{"GPU": 3.0}, {"GPU": 4.0}])
    assert plan.num_workers == 3
    assert plan_workers(Resources(gpus_per_worker=0.5), [{"GPU": 2.0}]).num_workers == 4


def test_num_gpus_limits_the_workers() -> None:
    plan = plan_workers(Resources(num_gpus=3), [EIGHT_GPU_NODE])
    assert plan.num_workers == 3
    assert plan_workers(Resources(num_gpus=4, gpus_per_worker=2), [EIGHT_GPU_NODE]).num_workers == 2


def test_cpu_workers_without_gpus() -> None:
    plan = plan_workers(Resources(), [CPU_NODE, CPU_NODE])  # no GPU anywhere: CPU workers
    assert (plan.num_workers, plan.num_gpus, plan.num_cpus, plan.spread) == (2, 0.0, 16.0, True)
    assert plan_workers(Resources(num_cpu_workers=3), [{"CPU": 2.0}]).num_cpus == 0.6666
    plan = plan_workers(Resources(num_gpus=0, num_cpu_workers=8), [{"CPU": 2.0}, {"GPU": 1.0}])
    assert plan.num_workers == 8 and plan.num_cpus == 0.25


@pytest.mark.parametrize(
    "resources, nodes, message",
    [
        (Resources(num_gpus=1), [CPU_NODE], "has no GPU"),
        (Resources(gpus_per_worker=16), [EIGHT_GPU_NODE], "more than any node has"),
        (Resources(num_gpus=9), [EIGHT_GPU_NODE], "has 8"),
        (Resources(num_gpus=1, gpus_per_worker=2), [EIGHT_GPU_NODE], "makes no worker"),
        (Resources(gpus_per_worker=1.5), [EIGHT_GPU_NODE], "whole number"),
        (Resources(gpus_per_worker=0), [EIGHT_GPU_NODE], "above 0"),
        (Resources(num_gpus=-1), [EIGHT_GPU_NODE], "0 or more"),
        (Resources(num_gpus=0, num_cpu_workers=0), [CPU_NODE], "at least 1"),
    ],
)
def test_impossible_requests_are_user_errors(resources, nodes, message) -> None:
    with pytest.raises(UserError, match=message):
        plan_workers(resources, nodes)


def test_can_host_after_losing_nodes() -> None:
    plan = plan_workers(Resources(gpus_per_worker=2), [{"GPU": 2.0}, {"GPU": 1.0}])
    assert can_host(plan, [{"GPU": 2.0}]) and not can_host(plan, [{"GPU": 1.0}, CPU_NODE])


def test_missing_gpu_fails_fast_on_a_real_ray(ray_local, tmp_path) -> None:
    """4 GPUs declared: asking for 8 per worker must not leave an actor pending forever."""
    started = time.monotonic()
    with pytest.raises(UserError, match="more than any node has"):
        run_stage("generate", [Item("a", 1)], FileWorker, {"out_dir": str(tmp_path)},
                  manifest_path=tmp_path / "m.jsonl", resources=Resources(gpus_per_worker=8),
                  progress=False)  # fmt: skip
    assert time.monotonic() - started < 10


def _parse(argv: list[str]) -> Resources:
    parser = argparse.ArgumentParser()
    add_ray_arguments(parser)
    return resources_from_args(parser.parse_args(argv))


def test_cli_flags_build_resources() -> None:
    assert _parse([]) == Resources()
    assert _parse(["--num-gpus", "8", "--gpus-per-worker", "0.5", "--ray-address", "auto"]) == (
        Resources(num_gpus=8, gpus_per_worker=0.5, ray_address="auto")
    )
    assert _parse(["--num-gpus", "0", "--num-cpu-workers", "3"]) == Resources(
        num_gpus=0, num_cpu_workers=3
    )


@pytest.mark.parametrize(
    "argv", [["--num-gpus", "-2"], ["--gpus-per-worker", "0"], ["--gpus-per-worker", "2.5"],
             ["--num-cpu-workers", "0"], ["--ray-address", " "]],
)  # fmt: skip
def test_cli_rejects_bad_flags(argv) -> None:
    with pytest.raises(UserError):
        _parse(argv)


def test_unreachable_ray_address_fails_in_seconds() -> None:
    import socket

    from repvideo_eval.distributed.session import check_ray_address

    with socket.socket() as sock:  # a port that is certainly closed: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(
            UserError, match=f"no Ray cluster answers at --ray-address 127.0.0.1:{port}"
        ):
            check_ray_address(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 6
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_ray_address(f"127.0.0.1:{server.getsockname()[1]}")  # reachable: no error
    check_ray_address("auto")  # left to Ray
