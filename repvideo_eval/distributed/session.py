"""Start, join or reuse Ray for a stage, and read the alive nodes' resources."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator

import ray

from repvideo_eval.crashpoints import mark_driver
from repvideo_eval.errors import UserError

from .types import Resources

log = logging.getLogger(__name__)


@contextlib.contextmanager
def ray_session(resources: Resources) -> Iterator[bool]:
    """Use the caller's Ray if it is initialised; else start a local one or join `ray_address`.

    Yields True when this call started (and so will shut down) the Ray connection. Calling it
    once around several `run_stage` calls keeps one Ray for the whole run.
    """
    if ray.is_initialized():
        yield False
        return
    if resources.ray_address:
        check_ray_address(resources.ray_address)
    try:
        if resources.ray_address:
            ray.init(address=resources.ray_address, include_dashboard=False, log_to_driver=True)
        else:
            mark_driver()  # a local Ray's workers inherit this environment (resume tests)
            ray.init(include_dashboard=False, log_to_driver=True)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if not resources.ray_address:
            raise
        raise UserError(
            f"could not join the Ray cluster at --ray-address {resources.ray_address}: {exc}",
            "Start it first (`ray start --head` on the head node, `ray start --address HEAD:6379` "
            "on the others) or leave --ray-address out to start a local Ray",
        ) from exc
    try:
        yield True
    finally:
        ray.shutdown()


def check_ray_address(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds on a wrong HOST:PORT; `ray.init` would retry it for minutes."""
    if address == "auto" or "://" in address or ":" not in address:
        return  # "auto" is resolved by Ray itself, and fails fast when no cluster runs here
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return
    except (OSError, ValueError) as exc:
        raise UserError(
            f"no Ray cluster answers at --ray-address {address} ({exc})",
            "Check the head node's address and port (`ray start --head` prints them), "
            "or leave --ray-address out to start a local Ray",
        ) from exc


def alive_node_resources() -> list[dict[str, float]]:
    """Resource totals of every alive node (what `plan_workers` needs)."""
    return [dict(node.get("Resources", {})) for node in ray.nodes() if node.get("Alive")]


def alive_node_ids() -> set[str]:
    return {node["NodeID"] for node in ray.nodes() if node.get("Alive")}
