"""The offline end-to-end run (what `make demo` does), and that a second run redoes nothing."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
    }
    return subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_tiny_pair_end_to_end_then_resume_reuses_everything(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = (
        "--model",
        "tiny",
        "--suite",
        "smoke",
        "--limit-prompts",
        "2",
        "--output-dir",
        str(out),
        "--no-progress",
    )
    first = run(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]

    # Videos and sidecars, content-addressed by card hash, for both models.
    meta = json.loads((out / "run.json").read_text())
    assert set(meta["models"]) == {"cogvideox-tiny", "repvideo-tiny"}
    videos = sorted((out / "videos").rglob("*.mp4"))
    assert len(videos) == 4
    for video in videos:
        sidecar = out / "sidecars" / video.parent.name / f"{video.stem}.json"
        data = json.loads(sidecar.read_text())
        assert (
            data["prompt"]
            and isinstance(data["seed"], int)
            and data["versions"]["torch"]
            and data["device"]
        )
        assert len(data["sampler_trace"]["guidance_applied"]) == 2

    # Long-form records for both dimensions, each naming the weights that produced it.
    with (out / "per_video.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    quality = {
        "subject_consistency",
        "background_consistency",
        "temporal_flickering",
        "motion_smoothness",
        "dynamic_degree",
        "aesthetic_quality",
        "imaging_quality",
    }
    assert len(rows) == 4 * len(quality)
    assert {r["dimension"] for r in rows} == quality
    assert all(r["score"] and not r["error"] for r in rows)
    assert {r["weights_id"] for r in rows if r["dimension"] != "temporal_flickering"} == {
        "tiny-random:seed=0"
    }
    # temporal_flickering is VBench's exact pixel formula; the score stays in (0, 1].
    assert all(
        0.0 < float(r["score"]) <= 1.0 for r in rows if r["dimension"] == "temporal_flickering"
    )

    # Leaderboards, printed too, saying plainly that the scorer weights are random.
    for name in (
        "leaderboard.csv",
        "leaderboard.md",
        "leaderboard.json",
        "gallery.html",
        "eval_results/repvideo-tiny_eval_results.json",
    ):
        assert (out / name).is_file(), name
    assert "| cogvideox-tiny |" in first.stdout and "| repvideo-tiny |" in first.stdout
    assert "RANDOM" in first.stdout

    # A second identical run regenerates and rescores nothing.
    stamps = {
        p: p.stat().st_mtime_ns
        for p in list(out.rglob("*.mp4")) + list((out / "scores").rglob("*.json"))
    }
    second = run(*args, cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert "done=4 failed=0" not in second.stderr  # nothing was processed, everything skipped
    with (out / "per_video.csv").open() as stream:
        assert list(csv.DictReader(stream)) == rows
