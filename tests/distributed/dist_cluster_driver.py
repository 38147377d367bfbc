"""Runs a stage on a 3-node test cluster (head without GPUs, two 1-GPU nodes) and removes one
GPU node mid-run. Prints the summary as JSON on a stdout line starting with "RESULT ".

Usage: python dist_cluster_driver.py OUT_DIR
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ray  # noqa: E402
from ray import cloudpickle  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

import dist_workers  # noqa: E402
from repvideo_eval.distributed import Resources, read_manifest, run_stage  # noqa: E402


def main(out_dir: Path) -> int:
    cloudpickle.register_pickle_by_value(dist_workers)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0})
    try:
        kept = cluster.add_node(num_cpus=1, num_gpus=1)
        doomed = cluster.add_node(num_cpus=1, num_gpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        manifest = out_dir / "m.jsonl"
        items = [dist_workers.Item(key=f"n{i:02d}", value=i) for i in range(12)]
        result: dict = {}

        def stage() -> None:
            result["summary"] = run_stage(
                "generate", items, dist_workers.FileWorker, {"out_dir": str(out_dir), "delay": 0.4},
                manifest_path=manifest, resources=Resources(),
                is_complete=dist_workers.is_complete(out_dir), progress=False,
            )  # fmt: skip

        thread = threading.Thread(target=stage)
        thread.start()
        while sum(s.status == "done" for s in read_manifest(manifest).values()) < 3:
            time.sleep(0.05)
        # A real node loss takes its processes with it; remove_node stops the raylet, and the
        # actor processes it leaves behind for a moment are killed like the machine's would be.
        pids = {int(s.worker.rsplit(":", 1)[1]) for s in read_manifest(manifest).values()
                if s.node == doomed.node_id}  # fmt: skip
        cluster.remove_node(doomed, allow_graceful=False)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        removed_at = time.time()
        thread.join(timeout=240)
        summary = result["summary"]
        states = read_manifest(manifest)
        print("RESULT " + json.dumps({
            "done": summary.done, "failed": summary.failed, "workers": summary.num_workers,
            "doomed_node": doomed.node_id, "kept_node": kept.node_id, "removed_at": removed_at,
            "done_after": [s.node for s in states.values() if s.finished_at > removed_at],
            "errors": [e for s in states.values() for e in s.errors],
        }), flush=True)  # fmt: skip
        return 0
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
