"""One local Ray for the whole test session (starting Ray costs seconds on this machine)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

DECLARED_GPUS = 4


@pytest.fixture(scope="session")
def ray_local():
    """A private local Ray with 4 declared GPUs; yields its GCS address for subprocess drivers."""
    import ray
    from ray import cloudpickle

    import dist_workers

    # Actor processes do not have tests/ on their path: ship the test workers by value.
    cloudpickle.register_pickle_by_value(dist_workers)
    if ray.is_initialized():
        ray.shutdown()
    context = ray.init(
        num_cpus=2, num_gpus=DECLARED_GPUS, include_dashboard=False, log_to_driver=False
    )
    yield context.address_info["gcs_address"]
    ray.shutdown()
