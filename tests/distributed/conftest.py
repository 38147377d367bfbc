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
    """A local Ray with 4 declared GPUs; yields its GCS address for subprocess drivers.

    A Ray this process already runs is reused when it has the resources (and left running);
    otherwise this session starts its own and shuts it down at the end.
    """
    import dist_workers
    import ray
    from ray import cloudpickle

    # Actor processes do not have tests/ on their path: ship the test workers by value.
    cloudpickle.register_pickle_by_value(dist_workers)
    if ray.is_initialized():
        resources = ray.cluster_resources()
        if resources.get("GPU", 0) >= DECLARED_GPUS and resources.get("CPU", 0) >= 2:
            yield ray.get_runtime_context().gcs_address
            return
        ray.shutdown()
    context = ray.init(
        num_cpus=2, num_gpus=DECLARED_GPUS, include_dashboard=False, log_to_driver=False
    )
    yield context.address_info["gcs_address"]
    ray.shutdown()
