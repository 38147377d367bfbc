"""Nodes removed mid-run from a multi-node test cluster (several raylets on this machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dist_workers import Item, expected_text

HERE = Path(__file__).resolve().parent


def _run_driver(out_dir: Path, mode: str) -> dict:
    # Its own process: a test cluster cannot share a driver with the session's local Ray.
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1]), "RAY_AUTH_MODE": "disabled",
           "RAY_USAGE_STATS_ENABLED": "0"}  # fmt: skip
    run = subprocess.run(
        [sys.executable, str(HERE / "dist_cluster_driver.py"), str(out_dir), mode],
        env=env, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, run.stdout[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.mark.slow
def test_losing_a_gpu_node_mid_run_finishes_on_the_others(tmp_path: Path) -> None:
    report = _run_driver(tmp_path, "lose-one")
    assert report["user_error"] is None
    assert report["workers"] == 2  # one per GPU node; the GPU-less head hosts none
    assert report["done"] == 12 and report["failed"] == []
    # after the removal the surviving node finished the rest; the lost one at most the result
    # that was already on its way when it went down
    after = report["done_after"]
    assert after.count(report["doomed_node"]) <= 1
    assert after.count(report["kept_node"]) >= 5
    assert any("node was lost" in e or "died" in e for e in report["errors"]), report["errors"]
    for i in range(12):
        item = Item(key=f"n{i:02d}", value=i)
        assert (tmp_path / f"{item.key}.txt").read_text() == expected_text(item)


@pytest.mark.slow
def test_losing_every_gpu_node_stops_with_a_user_error_instead_of_hanging(tmp_path: Path) -> None:
    report = _run_driver(tmp_path, "lose-all")
    assert report["user_error"] is not None
    assert "no node left in the Ray cluster can run a worker" in report["user_error"]
    assert "rerun the same command" in report["user_error"]
    assert report["stopped_after_s"] < 60
