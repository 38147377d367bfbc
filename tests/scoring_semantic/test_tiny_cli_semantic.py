"""Item 4 end to end: the tiny models through the CLI on a semantic suite, scored by the tiny
GRiT-torch (the default detector)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_run_eval_tiny_spatial_relationship(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_AUTH_MODE": "disabled"}
    proc = subprocess.run(
        [
            sys.executable,
            "run_eval.py",
            "--model",
            "cogvideox-tiny,repvideo-tiny",
            "--suite",
            "vbench/spatial_relationship",
            "--limit-prompts",
            "1",
            "--samples-per-prompt",
            "2",
            "--output-dir",
            str(out),
            "--no-progress",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out / "per_video.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r["dimension"] == "spatial_relationship"]
    assert {r["model"] for r in rows} == {"cogvideox-tiny", "repvideo-tiny"} and len(rows) == 4
    for row in rows:
        assert row["error"] == "" and 0.0 <= float(row["score"]) <= 1.0
        assert float(row["aggregation_weight"]) == 16.0  # 16 sampled frames per video
        assert row["weights_id"] == "tiny-random:seed=0:detector=grit-torch"
