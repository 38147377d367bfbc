"""Scoring throughput: the project's engine vs vbench 0.1.5's compute_* on the same inputs.

Same videos, same random weights at real sizes (official formats and names, built by
tests/scoring/build_vbench_fixture.py into a /tmp cache), same device (--device, default CPU), same thread count,
measured side by side in one run. Each side runs in its own fresh subprocess so neither benefits
from the other's warm caches; times include model loading (vbench loads every model per
compute_* call; the project loads each once per session) and decoding.

    .venv/bin/python benchmarks/scoring_throughput.py [--videos 2] [--frames 16] [--dimensions a,b]

vbench's subject_consistency needs DINO's torch.hub code (not on PyPI), so its inner function is
timed with the same DINO weights loaded from the same file, as in the parity tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "scoring"))

QUALITY = (
    "subject_consistency",
    "background_consistency",
    "temporal_flickering",
    "motion_smoothness",
    "dynamic_degree",
    "aesthetic_quality",
    "imaging_quality",
)


def vbench_worker(
    dimensions: list[str], videos: list[str], device: str = "cpu"
) -> dict[str, float]:
    """Time vbench's own entry points per dimension (load + score), in this process."""
    import torch
    from vbench.utils import CACHE_DIR, init_submodules

    timings = {}
    cpu_start = time.process_time()
    for dimension in dimensions:
        json_path = tempfile.mktemp(suffix=".json")
        Path(json_path).write_text(
            json.dumps([{"prompt_en": "bench", "dimension": [dimension], "video_list": videos}])
        )
        start = time.perf_counter()
        if dimension == "subject_consistency":
            from vbench.subject_consistency import subject_consistency

            from repvideo_eval.scoring.models.dino_vit import DinoViT

            model = DinoViT()
            model.load_state_dict(
                torch.load(
                    f"{CACHE_DIR}/dino_model/dino_vitbase16_pretrain.pth",
                    map_location="cpu",
                    weights_only=True,
                )
            )
            subject_consistency(model.to(device), videos, device, read_frame=False)
        else:
            module = __import__(f"vbench.{dimension}", fromlist=["x"])
            getattr(module, f"compute_{dimension}")(
                json_path, device, init_submodules([dimension], local=True)[dimension]
            )
        timings[dimension] = time.perf_counter() - start
    timings["cpu"] = time.process_time() - cpu_start
    return timings


def project_worker(
    dimensions: list[str],
    videos: list[str],
    cache: str,
    every_pair: bool = False,
    device: str = "cpu",
) -> dict[str, float]:
    """Time the project's session: load all models once, then score every video on all dims.

    every_pair: dynamic_degree computes every RAFT pair (no early stop), the cost of a video
    whose verdict is "static" at the last pair; with random weights the synthetic videos all
    come out "moving", which is the early stop's best case.
    """
    from repvideo_eval.scoring import ScoringSession, VideoToScore
    from repvideo_eval.scoring.dimensions.dynamic_degree import DynamicDegree

    DynamicDegree.stop_when_decided = not every_pair

    start, cpu_start = time.perf_counter(), time.process_time()
    session = ScoringSession(
        dimensions, device=device, scoring_weights="local", cache_dir=Path(cache)
    )
    loaded = time.perf_counter()
    raft_pairs = []
    for video in videos:
        records = session.score(VideoToScore(Path(video), "bench"))
        assert all(r.error is None for r in records), [r.error for r in records]
        raft_pairs += [
            f"{len(r.details['pair_scores'])}/{r.details['pairs_total']} ({'moving' if r.score else 'static'})"
            for r in records
            if r.dimension == "dynamic_degree"
        ]
    done = time.perf_counter()
    return {
        "load": loaded - start,
        "score": done - loaded,
        "total": done - start,
        "cpu": time.process_time() - cpu_start,
        "load_by_dimension": session.load_seconds,
        "score_by_dimension": session.score_seconds,
        "raft_pairs": raft_pairs,
    }


def _run_worker(
    kind: str, dimensions: list[str], videos: list[str], cache: Path, device: str
) -> dict:
    env = {**os.environ, "VBENCH_CACHE_DIR": str(cache), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            f"--worker={kind}",
            "--device",
            device,
            "--dimensions",
            ",".join(dimensions),
            "--video-list",
            json.dumps(videos),
            "--cache",
            str(cache),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--height", type=int, default=160)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument(
        "--kinds",
        default="square,pan,static",
        help="synthetic motion patterns, cycled over the videos (square and pan move, static does not)",
    )
    parser.add_argument("--dimensions", default=",".join(QUALITY))
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(
            os.environ.get("REPVIDEO_EVAL_PARITY_CACHE", "/tmp/repvideo-eval-vbench-fixture")
        ),
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda (both sides run on it)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--video-list", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    dimensions = [d for d in args.dimensions.split(",") if d]

    if args.worker:
        videos = json.loads(args.video_list)
        if args.worker == "vbench":
            result = vbench_worker(dimensions, videos, args.device)
        else:
            result = project_worker(
                dimensions,
                videos,
                str(args.cache),
                every_pair=args.worker == "project-every-pair",
                device=args.device,
            )
        print(json.dumps(result))
        return

    import torch
    from build_vbench_fixture import build_all
    from synthetic_videos import render_frames, write_video

    build_all(args.cache)
    folder = Path(tempfile.mkdtemp(prefix="scoring-bench-"))
    kinds = tuple(args.kinds.split(","))
    videos = [
        str(
            write_video(
                folder / f"bench-{i}.mp4",
                render_frames(kinds[i % len(kinds)], args.frames, args.height, args.width, seed=i),
            )
        )
        for i in range(args.videos)
    ]
    # Warm the project's one-time CLIP conversion (TorchScript -> safetensors) outside the timing.
    _run_worker(
        "project",
        [d for d in dimensions if d in ("background_consistency", "aesthetic_quality")]
        or dimensions[:1],
        videos[:1],
        args.cache,
        args.device,
    )

    vbench = _run_worker("vbench", dimensions, videos, args.cache, args.device)
    project = _run_worker("project", dimensions, videos, args.cache, args.device)
    every_pair = (
        _run_worker("project-every-pair", dimensions, videos, args.cache, args.device)
        if "dynamic_degree" in dimensions
        else None
    )
    vbench_cpu = vbench.pop("cpu")
    vbench_total = sum(vbench.values())
    project["load_by_dimension"] = {d: float(v) for d, v in project["load_by_dimension"].items()}
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"scoring throughput, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads), device {args.device}"
    )
    print(
        f"{args.videos} videos ({', '.join(kinds[i % len(kinds)] for i in range(args.videos))}) x {args.frames} frames at "
        f"{args.width}x{args.height}, 8 fps; random weights at real sizes; load + decode + score"
    )
    print(
        "per dimension, wall s (vbench: its compute_* call, model loading and decoding included; project: building the"
    )
    print(
        "dimension's model + scoring all videos; the first model built also pays the shared imports)"
    )
    print(f"{'dimension':<24}{'vbench':>9}{'project':>9}{'(load':>8}{'+ score)':>10}{'ratio':>8}")
    for dimension in dimensions:
        load, score = (
            project["load_by_dimension"][dimension],
            project["score_by_dimension"][dimension],
        )
        ratio = vbench[dimension] / (load + score) if load + score > 0 else float("nan")
        print(
            f"{dimension:<24}{vbench[dimension]:>9.1f}{load + score:>9.1f}{load:>8.1f}{score:>10.1f}{ratio:>7.2f}x"
        )
    print(f"{'vbench, all together':<24}{vbench_total:>9.1f}")
    print(
        f"{'project, all together':<24}{project['total']:>9.1f}   (load {project['load']:.1f} s + score {project['score']:.1f} s)"
    )
    if project["raft_pairs"]:
        print(
            f"dynamic_degree RAFT pairs computed by the project per video (vbench computes all): {', '.join(project['raft_pairs'])}"
        )
    print(
        f"speed-up (vbench / project): wall {vbench_total / project['total']:.2f}x, "
        f"process CPU time {vbench_cpu / project['cpu']:.2f}x ({vbench_cpu:.0f} s vs {project['cpu']:.0f} s); "
        f"1-min load average at the end {load_average:.1f}"
    )
    if every_pair is not None:
        print(
            f"speed-up with dynamic_degree computing every RAFT pair (the cost of static verdicts): "
            f"wall {vbench_total / every_pair['total']:.2f}x, process CPU time {vbench_cpu / every_pair['cpu']:.2f}x "
            f"(project {every_pair['total']:.1f} s wall, dynamic_degree {every_pair['score_by_dimension']['dynamic_degree']:.1f} s)"
        )


if __name__ == "__main__":
    main()
