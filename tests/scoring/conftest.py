"""Fixtures for the scoring tests: the random-weight vbench cache, synthetic videos, vbench runs.

The cache (~3 GB of random weights in vbench's official formats and names) is built once by a
subprocess and kept between runs under /tmp (or $REPVIDEO_EVAL_PARITY_CACHE); it is never put in
the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .build_vbench_fixture import DONE_MARKER
from .synthetic_videos import render_frames, write_video

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = Path("/tmp/repvideo-eval-vbench-fixture")


@pytest.fixture(scope="session")
def vbench_cache() -> Path:
    cache = Path(os.environ.get("REPVIDEO_EVAL_PARITY_CACHE", DEFAULT_CACHE))
    if not (cache / DONE_MARKER).exists():
        subprocess.run(
            [sys.executable, str(Path(__file__).parent / "build_vbench_fixture.py"), str(cache)],
            cwd=REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return cache


@pytest.fixture(scope="session")
def offline_path(tmp_path_factory) -> str:
    """A PATH whose first entry holds failing wget/git/curl/unzip stubs (vbench's download tools)."""
    stubs = tmp_path_factory.mktemp("offline-bin")
    for tool in ("wget", "git", "curl", "unzip"):
        stub = stubs / tool
        stub.write_text(f"#!/bin/sh\necho 'blocked: {tool} '\"$@\" >&2\nexit 1\n")
        stub.chmod(0o755)
    return f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def run_vbench(vbench_cache, offline_path, tmp_path_factory):
    """run_vbench(dimension, [video paths], dino='ours') -> {video path: vbench per-video result}."""
    work = tmp_path_factory.mktemp("vbench-runs")

    def run(dimension: str, videos: list[Path], dino: str = "ours") -> dict[str, dict]:
        tag = f"{dimension}-{dino}-{abs(hash(tuple(map(str, videos))))}"
        videos_json, out_json = work / f"{tag}-in.json", work / f"{tag}-out.json"
        if not out_json.exists():
            videos_json.write_text(json.dumps([str(v) for v in videos]))
            env = {
                **os.environ,
                "VBENCH_CACHE_DIR": str(vbench_cache),
                "PATH": offline_path,
                "TORCH_HOME": str(vbench_cache / "torch_home"),
                "HF_HUB_OFFLINE": "1",
            }
            proc = subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).parent / "vbench_reference.py"),
                    dimension,
                    str(videos_json),
                    str(out_json),
                    "--dino",
                    dino,
                ],
                cwd=REPO_ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            assert proc.returncode == 0, f"vbench {dimension} failed:\n{proc.stderr[-3000:]}"
        return {row["video"]: row for row in json.loads(out_json.read_text())}

    return run


@pytest.fixture(scope="session")
def fast_video(tmp_path_factory) -> Path:
    """One 7-frame 160x128 video with a moving square: every dimension's fast parity case.

    128 px is the smallest height for which RAFT/AMT's 4-level correlation pyramids stay >= 2
    cells per level (smaller frames give NaN flow in vbench; the project rejects them).
    """
    folder = tmp_path_factory.mktemp("fast-videos")
    return write_video(
        folder / "a moving square-0.mp4", render_frames("square", 7, 128, 160, seed=1)
    )


@pytest.fixture(scope="session")
def slow_videos(tmp_path_factory) -> list[Path]:
    """Varied videos for the slow parity cases: motion kinds, even/odd T, >512 px, 24 fps."""
    folder = tmp_path_factory.mktemp("slow-videos")
    return [
        write_video(folder / "static-0.mp4", render_frames("static", 16, 160, 256, seed=2)),
        write_video(folder / "square-0.mp4", render_frames("square", 16, 160, 256, seed=3)),
        write_video(folder / "pan-0.mp4", render_frames("pan", 15, 160, 256, seed=4)),
        write_video(folder / "wide-0.mp4", render_frames("pan", 6, 360, 640, seed=5)),
        write_video(folder / "fps24-0.mp4", render_frames("square", 24, 128, 192, seed=6), fps=24),
    ]


@pytest.fixture(scope="module")
def shared_ray():
    """One local CPU Ray for a module's `score`/`run` calls (they reuse a Ray that is running),
    instead of one start per call; shut down after the module unless it was already running."""
    import ray

    if ray.is_initialized():
        yield
        return
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
