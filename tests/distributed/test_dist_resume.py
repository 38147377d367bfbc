"""kill -9 of the driver mid-run, then a rerun: nothing complete is redone, same final result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dist_workers import Item, SlowInPlaceWorker, count, expected_text, is_complete

from repvideo_eval.distributed import Resources, read_manifest, run_stage

HERE = Path(__file__).resolve().parent
NUM_ITEMS = 10


def _events(manifest: Path) -> list[dict]:
    if not manifest.exists():
        return []
    lines = manifest.read_bytes().split(b"\n")[:-1]
    return [json.loads(line) for line in lines if line.strip()]


def _run_in_process(out_dir: Path, manifest: Path) -> None:
    items = [Item(key=f"v{i:02d}", value=i) for i in range(NUM_ITEMS)]
    summary = run_stage(
        "generate", items, SlowInPlaceWorker, {"out_dir": str(out_dir), "delay": 0.02},
        manifest_path=manifest, resources=Resources(num_gpus=2),
        is_complete=is_complete(out_dir), progress=False,
    )  # fmt: skip
    assert summary.ok


def _interrupt_then_rerun(ray_local: str, tmp_path: Path, sig: int) -> None:
    reference_dir, run_dir = tmp_path / "reference", tmp_path / "run"
    _run_in_process(reference_dir, reference_dir / "m.jsonl")

    manifest = run_dir / "m.jsonl"
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    err_path = tmp_path / "driver.err"
    err_file = open(err_path, "wb")
    driver = subprocess.Popen(
        [sys.executable, str(HERE / "dist_driver.py"), ray_local, str(run_dir), str(manifest),
         str(NUM_ITEMS), "0.8"],
        env=env, stdout=subprocess.DEVNULL, stderr=err_file,  # a file: a full pipe would block it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # Ctrl-C works there
    )  # fmt: skip
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            done = [e for e in _events(manifest) if e["event"] == "done"]
            if len(done) >= 3:
                break
            assert driver.poll() is None, err_path.read_text()[-2000:]
            time.sleep(0.05)
        else:
            raise AssertionError("the driver never finished 3 items")
    finally:
        os.kill(driver.pid, sig)
        driver.wait(timeout=30)
        err_file.close()
    stderr = err_path.read_text()
    if sig == signal.SIGINT:  # Ctrl-C: the driver stops at once, through KeyboardInterrupt
        assert driver.returncode != 0 and "KeyboardInterrupt" in stderr
    done_before = {e["key"] for e in _events(manifest) if e["event"] == "done"}
    assert 3 <= len(done_before) < NUM_ITEMS
    time.sleep(1.0)  # let Ray reap the dead driver's actors

    _run_in_process(run_dir, manifest)

    states = read_manifest(manifest)
    reference = read_manifest(reference_dir / "m.jsonl")
    assert set(states) == set(reference)
    for key, state in states.items():
        # An item a worker finished after the driver died is complete on disk with no logged
        # outcome: the rerun skips it and logs it as found (no metadata).
        assert state.metadata in (reference[key].metadata, None)
    for i in range(NUM_ITEMS):
        item = Item(key=f"v{i:02d}", value=i)
        assert (run_dir / f"{item.key}.txt").read_text() == expected_text(item)
        if item.key in done_before:
            assert count(run_dir / "_attempts", item.key) == 1  # never redone
    assert all(s.status == "done" for s in states.values())


def test_kill_9_driver_then_rerun_finishes_without_redoing(ray_local, tmp_path: Path) -> None:
    _interrupt_then_rerun(ray_local, tmp_path, signal.SIGKILL)


@pytest.mark.slow
def test_ctrl_c_driver_then_rerun_finishes_without_redoing(ray_local, tmp_path: Path) -> None:
    _interrupt_then_rerun(ray_local, tmp_path, signal.SIGINT)
