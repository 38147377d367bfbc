"""run_stage on a local Ray: every item once, workers built once, load balanced, resumable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dist_workers import FileWorker, Item, count, expected_text, is_complete

from repvideo_eval.distributed import Resources, read_manifest, run_stage


def _items(n: int) -> list[Item]:
    return [Item(key=f"item{i:03d}", value=i) for i in range(n)]


def test_every_item_processed_once_with_one_worker_per_gpu(ray_local, tmp_path: Path) -> None:
    items = _items(12)
    manifest = tmp_path / "generate.jsonl"
    summary = run_stage(
        "generate", items, FileWorker, {"out_dir": str(tmp_path), "delay": 0.2},
        manifest_path=manifest, resources=Resources(num_gpus=2), is_complete=is_complete(tmp_path),
        progress=False,
    )  # fmt: skip
    assert (summary.total, summary.done, summary.skipped, summary.failed) == (12, 12, 0, [])
    assert summary.num_workers == 2 and summary.ok
    for item in items:
        assert (tmp_path / f"{item.key}.txt").read_text() == expected_text(item)
        assert count(tmp_path / "_attempts", item.key) == 1
    # one worker construction per actor, and both actors got work (no static split needed)
    inits = list((tmp_path / "_inits").iterdir())
    assert len(inits) == 2
    states = read_manifest(manifest)
    assert set(states) == {i.key for i in items}
    assert {states[i.key].metadata["square"] for i in items} == {i.value**2 for i in items}
    assert all(s.status == "done" and s.attempts == 1 and s.seconds >= 0.2 for s in states.values())
    pids = {s.metadata["pid"] for s in states.values()}
    assert len(pids) == 2
    gpus = {tuple(s.metadata["gpus"]) for s in states.values()}
    assert len(gpus) == 2 and all(len(g) == 1 for g in gpus)  # one distinct GPU per actor


def test_rerun_skips_complete_items_and_redoes_missing_or_partial(
    ray_local, tmp_path: Path
) -> None:
    items = _items(6)
    kwargs = {"out_dir": str(tmp_path)}
    manifest = tmp_path / "m.jsonl"
    check = is_complete(tmp_path)
    common = dict(manifest_path=manifest, resources=Resources(num_gpus=1), is_complete=check,
                  progress=False)  # fmt: skip
    first = run_stage("generate", items, FileWorker, kwargs, **common)
    assert first.done == 6
    (tmp_path / "item001.txt").unlink()  # lost output
    (tmp_path / "item004.txt").write_text("partial")  # torn output
    second = run_stage("generate", items, FileWorker, kwargs, **common)
    assert (second.done, second.skipped) == (2, 4)
    assert count(tmp_path / "_attempts", "item001") == 2
    assert count(tmp_path / "_attempts", "item004") == 2
    assert count(tmp_path / "_attempts", "item000") == 1
    third = run_stage("generate", items, FileWorker, kwargs, **common)
    assert (third.done, third.skipped, third.num_workers) == (0, 6, 0)
    assert read_manifest(manifest)["item004"].attempts == 2


def test_load_balancing_is_dynamic(ray_local, tmp_path: Path) -> None:
    """One slow item must not hold back a static share: the other actor takes the rest."""
    items = _items(9)
    delays = {"item000": 2.5}
    summary = run_stage(
        "generate", items, FileWorker, {"out_dir": str(tmp_path), "delay": 0.02, "delays": delays},
        manifest_path=tmp_path / "m.jsonl", resources=Resources(num_gpus=2), progress=False,
    )  # fmt: skip
    assert summary.done == 9
    states = read_manifest(tmp_path / "m.jsonl")
    slow_pid = states["item000"].metadata["pid"]
    by_slow = [k for k, s in states.items() if s.metadata["pid"] == slow_pid]
    # a static split would have given it 4 or 5 items; dynamically the other actor takes the
    # rest (allowing one more, should that actor start late on a loaded machine)
    assert "item000" in by_slow and len(by_slow) <= 2


def test_cpu_workers_when_no_gpus_requested(ray_local, tmp_path: Path) -> None:
    import ray

    items = _items(4)
    summary = run_stage(
        "score", items, FileWorker, {"out_dir": str(tmp_path)}, manifest_path=tmp_path / "m.jsonl",
        resources=Resources(num_gpus=0, num_cpu_workers=2), progress=False,
    )  # fmt: skip
    assert summary.done == 4 and summary.num_workers == 2
    assert all(s.metadata["gpus"] == [] for s in read_manifest(tmp_path / "m.jsonl").values())
    assert ray.is_initialized()  # the caller's Ray is reused, not shut down


def test_progress_bar_shows_counts(ray_local, tmp_path: Path, capsys) -> None:
    items = _items(3)
    run_stage(
        "generate", items, FileWorker, {"out_dir": str(tmp_path)}, manifest_path=tmp_path / "m.jsonl",
        resources=Resources(num_gpus=1), progress=True,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert "generate" in err and "3/3" in err
    assert "done=3 failed=0 left=0" in err
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", err)  # elapsed<ETA


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="share the key"):
        run_stage("generate", [Item("a", 1), Item("a", 2)], FileWorker, {"out_dir": str(tmp_path)},
                  manifest_path=tmp_path / "m.jsonl", resources=Resources(num_gpus=1))  # fmt: skip


def test_half_a_gpu_per_worker_puts_two_workers_on_one_gpu(ray_local, tmp_path: Path) -> None:
    items = _items(6)
    summary = run_stage(
        "score", items, FileWorker, {"out_dir": str(tmp_path), "delay": 0.2},
        manifest_path=tmp_path / "m.jsonl", resources=Resources(num_gpus=1, gpus_per_worker=0.5),
        progress=False,
    )  # fmt: skip
    assert summary.done == 6 and summary.num_workers == 2
    states = read_manifest(tmp_path / "m.jsonl").values()
    assert len({s.metadata["pid"] for s in states}) == 2
    assert len({tuple(s.metadata["gpus"]) for s in states}) == 1  # the same single GPU


def test_no_items_returns_an_empty_summary(tmp_path: Path) -> None:
    summary = run_stage("generate", [], FileWorker, {"out_dir": str(tmp_path)},
                        manifest_path=tmp_path / "m.jsonl", resources=Resources(), progress=False)  # fmt: skip
    assert (summary.total, summary.done, summary.num_workers, summary.ok) == (0, 0, 0, True)
