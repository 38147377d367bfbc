"""The Ray actor that hosts one Worker: built once per actor, then fed one item per call.

Errors are returned as data rather than raised: the driver then decides about retries and
restarts itself (and counts attempts in the manifest) instead of depending on Ray's retry knobs.
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from typing import Any

import ray

from repvideo_eval.errors import UserError


def _describe(exc: BaseException) -> dict[str, Any]:
    return {
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc(),
        "user_error": isinstance(exc, UserError),
    }


class StageActor:
    """Owns one worker instance for the life of the actor (so one model load per GPU)."""

    def __init__(self, worker_cls: type, worker_kwargs: dict[str, Any]) -> None:
        context = ray.get_runtime_context()
        self.identity = {
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "node": context.get_node_id(),
            "gpus": [str(g) for g in context.get_accelerator_ids().get("GPU", [])],
        }
        self.init_error: dict[str, Any] | None = None
        started = time.perf_counter()
        try:
            self.worker = worker_cls(**worker_kwargs)
        except Exception as exc:  # reported by ready(); the driver decides what to do
            self.worker = None
            self.init_error = _describe(exc)
        self.init_seconds = time.perf_counter() - started

    def ready(self) -> dict[str, Any]:
        """Who this actor is, how long the worker took to build, and whether that failed."""
        return {**self.identity, "init_seconds": self.init_seconds, "init_error": self.init_error}

    def process(self, item: Any) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            if self.worker is None:
                raise RuntimeError("the worker failed to start")
            metadata = self.worker.process(item)
            if metadata is None:
                metadata = {}
            if not isinstance(metadata, dict):
                raise TypeError(f"process() must return a dict, got {type(metadata).__name__}")
            json.dumps(metadata)  # the manifest must be able to keep it
        except Exception as exc:
            return {"ok": False, "seconds": time.perf_counter() - started, **_describe(exc)}
        return {"ok": True, "seconds": time.perf_counter() - started, "metadata": metadata}


RemoteStageActor = ray.remote(StageActor)
