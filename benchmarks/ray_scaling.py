"""Scheduling overhead per item and scaling efficiency of run_stage for 1, 2, 4 and 8 workers.

The worker sleeps a fixed time per item (no model), so every second a worker is not sleeping is
the executor's cost: the Ray round trip, the driver's bookkeeping and the manifest's fsync. All
worker counts run side by side in one Ray session (8 GPUs declared on this machine).

Reported per worker count, from the manifest's own driver-side timestamps:
  overhead_ms/item  (time each actor spends between items, i.e. not in process()) / items
  utilisation       worker-time spent in process() / (workers x steady window); the steady
                    window starts when the last actor got its first item (actor start-up,
                    a model load in real runs, is excluded) and ends at the last result
  scaling_eff       utilisation(w) / utilisation(1): throughput(w) / (w x throughput(1))
  wall_s            the whole run_stage call, actor start-up included
  e2e_eff           ideal time (items per worker x sleep) / wall_s: start-up included, which a
                    short benchmark overweights (real stages run for hours after start-up)
Targets (issue): scaling_eff >= 0.95 at 8 workers, overhead < 20 ms per item.
Then a VBench-sized stage (4,720 items that take no time) shows the driver's cost at that scale
and how long a rerun takes to find that everything is complete.

Usage: python benchmarks/ray_scaling.py [--seconds-per-item 0.25] [--items-per-worker 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray  # noqa: E402

from repvideo_eval.distributed import Resources, run_stage  # noqa: E402
from repvideo_eval.distributed.manifest import iter_events  # noqa: E402

WORKER_COUNTS = (1, 2, 4, 8)


@dataclass(frozen=True)
class SleepItem:
    key: str


class SleepWorker:
    """Sleeps `seconds` per item: a stand-in for a GPU doing a fixed amount of work."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def process(self, item: SleepItem) -> dict:
        time.sleep(self.seconds)
        return {}


def measure(workers: int, seconds: float, items_per_worker: int, folder: Path) -> dict[str, float]:
    manifest = folder / f"scaling-{workers}.jsonl"
    items = [SleepItem(key=f"i{i:05d}") for i in range(workers * items_per_worker)]
    started = time.perf_counter()
    summary = run_stage(
        "bench", items, SleepWorker, {"seconds": seconds}, manifest_path=manifest,
        resources=Resources(num_gpus=workers), progress=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    assert summary.ok and summary.num_workers == workers, summary
    starts, dones = {}, {}
    for event in iter_events(manifest):
        if event["event"] == "start":
            starts[event["key"]] = event
        elif event["event"] == "done":
            dones[event["key"]] = event
    per_worker: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for key, done in dones.items():
        per_worker[done["worker"]].append((starts[key]["ts"], done["ts"], done["seconds"]))
    idle = sum(max(d for _, d, _ in runs) - min(s for s, _, _ in runs) - sum(b for _, _, b in runs)
               for runs in per_worker.values())  # fmt: skip
    window_start = max(min(s for s, _, _ in runs) for runs in per_worker.values())
    window_end = max(d for runs in per_worker.values() for _, d, _ in runs)
    busy = 0.0
    for runs in per_worker.values():
        for start, done, inside in runs:
            overlap = max(0.0, min(done, window_end) - max(start, window_start))
            busy += inside * overlap / (done - start)
    return {
        "workers": workers,
        "items": len(items),
        "overhead_ms": 1000 * idle / len(items),
        "utilisation": busy / (workers * (window_end - window_start)),
        "wall_s": wall,
    }


def measure_vbench_scale(folder: Path, num_items: int = 4720, workers: int = 8) -> dict[str, float]:
    """A VBench-sized stage of zero-time items: the driver's own cost at scale, and a resume."""
    manifest = folder / "vbench-scale.jsonl"
    items = [SleepItem(key=f"prompt-{i:05d}") for i in range(num_items)]
    common = dict(manifest_path=manifest, resources=Resources(num_gpus=workers), progress=False)
    started = time.perf_counter()
    first = run_stage("bench", items, SleepWorker, {"seconds": 0.0}, **common)
    run_s = time.perf_counter() - started
    started = time.perf_counter()
    again = run_stage("bench", items, SleepWorker, {"seconds": 0.0}, **common)
    resume_s = time.perf_counter() - started
    assert first.done == num_items and again.skipped == num_items
    return {"items": num_items, "run_s": run_s, "resume_s": resume_s,
            "manifest_mb": manifest.stat().st_size / 1e6}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds-per-item", type=float, default=0.25)
    parser.add_argument("--items-per-worker", type=int, default=40)
    args = parser.parse_args()
    ray.init(num_cpus=2, num_gpus=max(WORKER_COUNTS), include_dashboard=False, log_to_driver=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            rows = [measure(w, args.seconds_per_item, args.items_per_worker, Path(folder))
                    for w in WORKER_COUNTS]  # fmt: skip
            scale = measure_vbench_scale(Path(folder))
    finally:
        ray.shutdown()
    base = rows[0]["utilisation"]
    ideal = args.items_per_worker * args.seconds_per_item
    print(f"# ray_scaling: {args.seconds_per_item:g} s sleep per item, {args.items_per_worker} "
          f"items per worker; ray {ray.__version__}, python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    print("| workers | items | overhead ms/item | utilisation | scaling eff | wall s | e2e eff |")
    print("|--------:|------:|-----------------:|------------:|------------:|-------:|--------:|")
    for row in rows:
        print(
            f"| {row['workers']} | {row['items']} | {row['overhead_ms']:.1f} | "
            f"{row['utilisation']:.3f} | {row['utilisation'] / base:.3f} | {row['wall_s']:.1f} | "
            f"{ideal / row['wall_s']:.3f} |"
        )
    print(f"VBench-sized stage ({scale['items']} zero-time items, 8 workers): "
          f"{scale['run_s']:.1f} s in all, actor start-up included; rerun with everything complete: "
          f"{scale['resume_s']:.2f} s; manifest {scale['manifest_mb']:.1f} MB")  # fmt: skip
    eight = rows[-1]
    ok = eight["utilisation"] / base >= 0.95 and max(r["overhead_ms"] for r in rows) < 20
    print(
        f"targets (eff >= 0.95 at 8 workers, overhead < 20 ms/item): {'MET' if ok else 'NOT MET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
