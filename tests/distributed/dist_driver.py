"""A driver process for the kill -9 tests: joins the test's Ray and runs one slow stage.

Usage: python dist_driver.py GCS_ADDRESS OUT_DIR MANIFEST NUM_ITEMS DELAY
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dist_workers  # noqa: E402
from ray import cloudpickle  # noqa: E402

from repvideo_eval.distributed import Resources, run_stage  # noqa: E402


def main(address: str, out_dir: str, manifest: str, num_items: int, delay: float) -> int:
    cloudpickle.register_pickle_by_value(dist_workers)
    items = [dist_workers.Item(key=f"v{i:02d}", value=i) for i in range(num_items)]
    summary = run_stage(
        "generate", items, dist_workers.SlowInPlaceWorker, {"out_dir": out_dir, "delay": delay},
        manifest_path=Path(manifest), resources=Resources(num_gpus=2, ray_address=address),
        is_complete=dist_workers.is_complete(Path(out_dir)), progress=False,
    )  # fmt: skip
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
