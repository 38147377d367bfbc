"""GRiT speed: the plain-PyTorch port vs vbench's detectron2 GRiT, same frames, weights, threads.

Runs in the grit-check venv (detectron2; `scripts/grit_check.sh` builds it):
    PYTHONPATH=. ~/.cache/repvideo-eval/venv-grit/bin/python benchmarks/grit_speed.py \
        [--threads 2] [--repeats 2] [--device cpu] [--task DenseCap] [--frames a b ...]

Both sides load one checkpoint file (the golden file's recipe, else seed 0 of
tests/scoring_grit/grit_recipe.py: real GRiT-B sizes, live text decoder) and run the golden frames (tests/scoring_grit/
grit_frames.py) in the same process under `torch.set_num_threads(--threads)`, alternating
vbench and the port frame by frame so load changes hit both alike. Per frame the best of
--repeats is kept; the totals and their ratio (vbench / port) are printed with the machine and
the load average. On CUDA it also times the port's `detect_batch` (frames of one size share a
backbone pass) against one-frame calls.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def _best(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--task", default="DenseCap", choices=("DenseCap", "ObjectDet"))
    parser.add_argument("--frames", nargs="*", help="golden frame names (default: all)")
    args = parser.parse_args(argv)

    import json

    import torch
    from scoring_grit.grit_checkpoint import offline_bert_tokenizer
    from scoring_grit.grit_frames import golden_frames
    from scoring_grit.grit_recipe import Recipe, seeded_grit_state_dict
    from transformers import BertTokenizer

    from repvideo_eval.scoring.detection.grit import GritDetector
    from repvideo_eval.scoring.detection.grit_torch import GritTorch

    torch.set_num_threads(args.threads)
    golden_file = ROOT / "tests" / "scoring_grit" / "golden_grit_b.json"
    recipe = (
        Recipe.from_json(json.loads(golden_file.read_text())["recipe"])
        if golden_file.exists()
        else Recipe(seed=0)
    )
    frames = golden_frames()
    if args.frames:
        frames = {name: frames[name] for name in args.frames}
    with (
        tempfile.TemporaryDirectory(prefix="grit-speed-") as tmp,
        offline_bert_tokenizer(Path(tmp) / "bert"),
    ):
        tokenizer = BertTokenizer.from_pretrained("bert-base-uncased", do_lower_case=True)
        state = seeded_grit_state_dict(recipe, tokenizer)
        path = Path(tmp) / "grit_b_densecap_objectdet.pth"
        torch.save({"model": state, "iteration": 0}, path)
        del state
        start = time.perf_counter()
        vbench = GritDetector(args.task, device=args.device, weight_path=str(path), weights_id="b")
        vbench_load = time.perf_counter() - start
        start = time.perf_counter()
        port = GritTorch.from_checkpoint(path, tokenizer, device=args.device)
        port_load = time.perf_counter() - start

        def run_vbench(frame):
            with torch.no_grad():
                vbench.model.run_caption_tensor(frame)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()

        def run_port(frame):
            port.detect(frame, task=args.task)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()

        rows = []
        for name, frame in frames.items():
            run_vbench(frame), run_port(frame)  # warm-up (allocator, first-call costs)
            rows.append(
                (
                    name,
                    _best(lambda f=frame: run_vbench(f), args.repeats),
                    _best(lambda f=frame: run_port(f), args.repeats),
                )
            )
            _, vbench_s, port_s = rows[-1]
            print(f"{name:16s} vbench {vbench_s:8.2f} s   port {port_s:8.2f} s   "
                  f"vbench/port {vbench_s / port_s:5.2f}x", flush=True)  # fmt: skip
        batched = None
        if args.device.startswith("cuda"):
            same = [frames[n] for n in frames][:1] * 8
            one = _best(lambda: [run_port(f) for f in same], args.repeats)
            many = _best(lambda: port.detect_batch(same, task=args.task), args.repeats)
            batched = (one, many)

    vbench_total = sum(r[1] for r in rows)
    port_total = sum(r[2] for r in rows)
    print(f"\nmachine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, "
          f"device {args.device}, threads {args.threads}, torch {torch.__version__}, "
          f"task {args.task}, {len(rows)} frames, best of {args.repeats}")  # fmt: skip
    print(f"load: vbench {vbench_load:.1f} s, port {port_load:.1f} s")
    print(f"total: vbench {vbench_total:.2f} s, port {port_total:.2f} s, "
          f"speed-up (vbench / port) {vbench_total / port_total:.2f}x")  # fmt: skip
    slowest = min(rows, key=lambda row: row[1] / row[2])
    print(f"smallest per-frame speed-up: {slowest[1] / slowest[2]:.2f}x ({slowest[0]})")
    if batched:
        print(f"CUDA, 8 frames: one at a time {batched[0]:.3f} s, detect_batch {batched[1]:.3f} s")
    print("1/5/15-min load average at the end:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
