"""scene end to end (slow): the tiny models through the CLI, scored by the tiny-random Tag2Text."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_run_eval_tiny_scene(tmp_path):
    out = tmp_path / "run"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "RAY_AUTH_MODE": "disabled",
    }
    proc = subprocess.run(
        [
            sys.executable,
            "run_eval.py",
            "--model",
            "tiny",
            "--suite",
            "vbench/scene",
            "--limit-prompts",
            "1",
            "--samples-per-prompt",
            "1",
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
        rows = [r for r in csv.DictReader(handle) if r["dimension"] == "scene"]
    assert len(rows) == 2 and {r["prompt"] for r in rows} == {"alley"}
    for row in rows:
        assert row["error"] == "" and 0.0 <= float(row["score"]) <= 1.0
        assert float(row["aggregation_weight"]) == 16.0
        assert row["weights_id"] == "tiny-random:seed=0:bert=standin"
