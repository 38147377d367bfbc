"""Runs a stage on a multi-node test cluster (head without GPUs, 1-GPU nodes) and removes a GPU
node mid-run. Prints a JSON report on a stdout line starting with "RESULT ".

Usage: python dist_cluster_driver.py OUT_DIR MODE
  MODE "lose-one": two GPU nodes, one is lost; the run must finish on the other.
  MODE "lose-all": one GPU node, it is lost; the run must stop with a UserError, not hang.
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

import dist_workers  # noqa: E402
import ray  # noqa: E402
from ray import cloudpickle  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from repvideo_eval.distributed import Resources, pool, read_manifest, run_stage  # noqa: E402
from repvideo_eval.errors import UserError  # noqa: E402


def _lose(cluster: Cluster, node, manifest: Path) -> None:
    """A real node loss takes its processes with it; remove_node stops the raylet, and the actor
    processes it leaves behind for a moment are killed as the machine's would be."""
    pids = {int(s.worker.rsplit(":", 1)[1]) for s in read_manifest(manifest).values()
            if s.node == node.node_id}  # fmt: skip
    cluster.remove_node(node, allow_graceful=False)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main(out_dir: Path, mode: str) -> int:
    cloudpickle.register_pickle_by_value(dist_workers)
    pool.STALL_CHECK_SECONDS = 3.0  # production waits 30 s for nodes to come back
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0})
    try:
        nodes = [
            cluster.add_node(num_cpus=1, num_gpus=1) for _ in range(2 if mode == "lose-one" else 1)
        ]
        doomed = nodes[-1]
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        manifest = out_dir / "m.jsonl"
        items = [dist_workers.Item(key=f"n{i:02d}", value=i) for i in range(12)]
        result: dict = {}

        def stage() -> None:
            try:
                result["summary"] = run_stage(
                    "generate", items, dist_workers.FileWorker,
                    {"out_dir": str(out_dir), "delay": 0.4}, manifest_path=manifest,
                    resources=Resources(), is_complete=dist_workers.is_complete(out_dir),
                    progress=False,
                )  # fmt: skip
            except UserError as exc:
                result["user_error"] = str(exc)

        thread = threading.Thread(target=stage)
        thread.start()
        while sum(s.status == "done" for s in read_manifest(manifest).values()) < 3:
            time.sleep(0.05)
        _lose(cluster, doomed, manifest)
        removed_at = time.time()
        thread.join(timeout=240)
        assert not thread.is_alive(), "the stage hangs"
        states = read_manifest(manifest)
        report = {
            "doomed_node": doomed.node_id, "kept_node": nodes[0].node_id,
            "done_after": [s.node for s in states.values()
                           if s.status == "done" and s.finished_at > removed_at],
            "errors": [e for s in states.values() for e in s.errors],
            "stopped_after_s": time.time() - removed_at,
            "user_error": result.get("user_error"),
        }  # fmt: skip
        if "summary" in result:
            summary = result["summary"]
            report.update(done=summary.done, failed=summary.failed, workers=summary.num_workers)
        print("RESULT " + json.dumps(report), flush=True)
        return 0
    finally:
        ray.shutdown()
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
