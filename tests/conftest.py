"""Test-session environment: offline hubs, quiet Ray, few threads (the CI machine has 2 cores)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _threads_per_xdist_worker() -> None:
    """Under pytest-xdist (`make test`), each worker process gets its share of the cores for
    torch's intra-op threads, and so do the subprocesses the tests start (they inherit the
    variable): two workers of two OpenMP threads each on two cores spin against each other.
    An OMP_NUM_THREADS set by the user wins."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


_threads_per_xdist_worker()
