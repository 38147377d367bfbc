"""Faults: raising workers, dying worker processes, workers that cannot start, timeouts."""

from __future__ import annotations

from pathlib import Path

import pytest
from dist_workers import (
    BrokenInitWorker,
    DyingWorker,
    FileWorker,
    FirstStartFailsWorker,
    FlakyWorker,
    FragileStartWorker,
    Item,
    LateUserErrorWorker,
    count,
    expected_text,
    is_complete,
)

from repvideo_eval.distributed import Resources, WorkerStartError, read_manifest, run_stage
from repvideo_eval.distributed.manifest import iter_events
from repvideo_eval.errors import UserError


def _items(n: int) -> list[Item]:
    return [Item(key=f"k{i}", value=i) for i in range(n)]


def _run(tmp_path: Path, worker, kwargs, items, **extra):
    options = dict(manifest_path=tmp_path / "m.jsonl", resources=Resources(num_gpus=2),
                   is_complete=is_complete(tmp_path), progress=False)  # fmt: skip
    options.update(extra)
    return run_stage("generate", items, worker, {"out_dir": str(tmp_path), **kwargs}, **options)


def test_raising_item_is_retried_and_a_hopeless_one_recorded_failed(ray_local, tmp_path) -> None:
    items = _items(6)
    # one worker makes the order deterministic: k0 k1! k2 k3 k4! k5 k1! k4! k1 k4!
    summary = _run(tmp_path, FlakyWorker, {"fail_times": {"k1": 2, "k4": 99}}, items,
                   resources=Resources(num_gpus=1))  # fmt: skip
    assert summary.done == 5
    assert [key for key, _ in summary.failed] == ["k4"]
    assert "flaky failure 3 of k4" in summary.failed[0][1] and not summary.ok
    states = read_manifest(tmp_path / "m.jsonl")
    assert states["k1"].status == "done" and states["k1"].attempts == 3
    assert len(states["k1"].errors) == 2
    assert states["k4"].status == "failed" and states["k4"].attempts == 3
    assert "ValueError" in states["k4"].error
    assert not (tmp_path / "k4.txt").exists()
    # each exception replaced the actor (a fresh worker), except the last: nothing was left to do
    assert summary.worker_restarts == 4
    assert len(list((tmp_path / "_inits").iterdir())) == 5


def test_failed_items_are_retried_on_rerun(ray_local, tmp_path) -> None:
    items = _items(3)
    first = _run(tmp_path, FlakyWorker, {"fail_times": {"k2": 2}}, items, max_attempts=1)
    assert [k for k, _ in first.failed] == ["k2"]
    second = _run(tmp_path, FlakyWorker, {"fail_times": {"k2": 2}}, items, max_attempts=2)
    assert (second.done, second.skipped, second.failed) == (1, 2, [])
    assert read_manifest(tmp_path / "m.jsonl")["k2"].attempts == 3


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_dead_worker_process_is_replaced_and_item_retried(ray_local, tmp_path, how) -> None:
    items = _items(6)
    summary = _run(tmp_path, DyingWorker, {"die_on": ["k2"], "how": how}, items)
    assert (summary.done, summary.failed) == (6, [])
    assert summary.worker_restarts == 1
    for item in items:
        assert (tmp_path / f"{item.key}.txt").read_text() == expected_text(item)
    state = read_manifest(tmp_path / "m.jsonl")["k2"]
    assert state.status == "done" and state.attempts == 2
    assert "died" in state.errors[0]


def test_worker_that_cannot_start_fails_fast_with_its_error(ray_local, tmp_path) -> None:
    with pytest.raises(WorkerStartError, match="cannot load the model"):
        run_stage("generate", _items(3), BrokenInitWorker, {}, manifest_path=tmp_path / "m.jsonl",
                  resources=Resources(num_gpus=2), progress=False)  # fmt: skip


def test_one_worker_failing_to_start_does_not_stop_the_others(ray_local, tmp_path) -> None:
    tmp_path.mkdir(exist_ok=True)
    summary = _run(tmp_path, FirstStartFailsWorker, {}, _items(6))
    assert (summary.done, summary.failed) == (6, [])
    assert (tmp_path / "_first_start").exists()  # the failure did happen


def test_user_error_in_worker_start_reaches_the_cli_as_user_error(ray_local, tmp_path) -> None:
    with pytest.raises(UserError, match="weights file /nowhere/model.pt is missing. download"):
        run_stage("generate", _items(3), BrokenInitWorker, {"user_error": True},
                  manifest_path=tmp_path / "m.jsonl", resources=Resources(num_gpus=1),
                  progress=False)  # fmt: skip


def test_user_error_while_processing_stops_the_stage_without_retrying(ray_local, tmp_path) -> None:
    """A worker that serves several models loads the later ones inside `process`: their user
    mistakes stop the run in one line, as they would have when the worker started."""
    with pytest.raises(UserError, match="weights file /nowhere/late.pt is missing. download"):
        _run(tmp_path, LateUserErrorWorker, {"bad": "k0"}, _items(1), max_attempts=3)
    assert count(tmp_path / "_attempts", "k0") == 1
    errors = [e for e in iter_events(tmp_path / "m.jsonl") if e["event"] == "error"]
    assert len(errors) == 1 and "late.pt" in errors[0]["error"]


def test_hung_item_is_killed_after_timeout_and_retried(ray_local, tmp_path) -> None:
    items = _items(3)
    summary = _run(tmp_path, FileWorker, {"delays": {"k0": 60.0}}, items, max_attempts=2,
                   item_timeout_s=1.5)  # fmt: skip
    assert [k for k, _ in summary.failed] == ["k0"]
    assert "timed out after 1.5 s" in summary.failed[0][1]
    assert summary.done == 2
    assert count(tmp_path / "_attempts", "k0") == 2


def test_without_restart_on_error_the_worker_is_kept(ray_local, tmp_path) -> None:
    items = _items(4)
    summary = _run(tmp_path, FlakyWorker, {"fail_times": {"k0": 1, "k2": 1}}, items,
                   resources=Resources(num_gpus=1), restart_on_error=False)  # fmt: skip
    assert (summary.done, summary.worker_restarts) == (4, 0)
    assert len(list((tmp_path / "_inits").iterdir())) == 1


def test_slot_whose_replacement_cannot_start_is_retired_and_the_rest_completes(
    ray_local, tmp_path
) -> None:
    items = _items(8)
    summary = _run(tmp_path, FragileStartWorker, {"die_on": ["k1"], "good_starts": 2}, items)
    assert (summary.done, summary.failed) == (8, [])
    assert summary.worker_restarts <= 3  # never more than max_attempts tries for the slot
    assert count(tmp_path / "_starts", "refused") <= 3


def test_run_stops_when_no_worker_can_be_restarted(ray_local, tmp_path) -> None:
    items = _items(4)
    with pytest.raises(WorkerStartError, match="every worker failed to start.*GPU fell off"):
        _run(tmp_path, FragileStartWorker, {"die_on": ["k1"], "good_starts": 1}, items,
             resources=Resources(num_gpus=1))  # fmt: skip
    assert count(tmp_path / "_starts", "refused") == 3
    states = read_manifest(tmp_path / "m.jsonl")
    assert states["k0"].status == "done" and states["k1"].status == "retrying"
    assert "k2" not in states  # never handed out; a rerun does it


def test_worker_killed_from_outside_mid_run(ray_local, tmp_path) -> None:
    """kill -9 of an actor process by someone else (OOM killer, an admin) while it works."""
    import json
    import os
    import signal
    import threading
    import time

    items = _items(10)
    manifest = tmp_path / "m.jsonl"
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.setdefault(
            "summary", _run(tmp_path, FileWorker, {"delay": 0.3}, items)
        )
    )
    thread.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.05)
        if manifest.exists():
            events = [json.loads(line) for line in manifest.read_text().splitlines()[:-1]]
            done = sum(e["event"] == "done" for e in events)
            starts = [e for e in events if e["event"] == "start"]
            if done >= 2 and starts:
                victim = int(starts[-1]["worker"].rsplit(":", 1)[1])
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    thread.join(timeout=120)
    summary = result["summary"]
    assert (summary.done, summary.failed) == (10, [])
    assert summary.worker_restarts >= 1
    for item in items:
        assert (tmp_path / f"{item.key}.txt").read_text() == expected_text(item)
    states = read_manifest(manifest)
    assert sum(len(s.errors) for s in states.values()) >= 1
    assert all(s.status == "done" for s in states.values())
