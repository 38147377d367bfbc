"""Completion is a fact about files: the manifest is a log, never needed to skip work."""

from __future__ import annotations

from pathlib import Path

from dist_workers import FileWorker, Item, expected_text, is_complete

from repvideo_eval.distributed import Resources, read_manifest, run_stage, split_complete
from repvideo_eval.distributed.manifest import FOUND, ManifestWriter, iter_events


def _write_output(folder: Path, item: Item) -> None:
    (folder / f"{item.key}.txt").write_text(expected_text(item))


def test_files_decide_whatever_the_manifest_says(tmp_path: Path) -> None:
    items = [
        Item(key=k, value=i) for i, k in enumerate(("logged-start", "logged-done", "unlogged"))
    ]
    _write_output(tmp_path, items[0])  # finished, but the driver died before logging it
    _write_output(tmp_path, items[2])  # finished, no manifest line at all
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path, "generate") as writer:
        writer.append("start", key="logged-start", attempt=1)
        writer.append("done", key="logged-done", attempt=1, metadata={})  # its output was lost
    previous = read_manifest(path, "generate")
    todo, complete = split_complete(items, previous, is_complete(tmp_path))
    assert [i.key for i in todo] == ["logged-done"]
    assert [i.key for i in complete] == ["logged-start", "unlogged"]


def test_without_a_file_check_the_manifest_is_the_only_record(tmp_path: Path) -> None:
    items = [Item(key="a", value=1), Item(key="b", value=2)]
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path, "bench") as writer:
        writer.append("done", key="a", attempt=1, metadata={})
    todo, complete = split_complete(items, read_manifest(path, "bench"), None)
    assert ([i.key for i in todo], [i.key for i in complete]) == (["b"], ["a"])


def test_rerun_skips_outputs_on_disk_and_logs_them_once_as_found(tmp_path: Path) -> None:
    """No Ray is needed (nothing to do): outputs with no logged outcome are skipped and logged."""
    items = [Item(key=f"v{i}", value=i) for i in range(3)]
    for item in items:
        _write_output(tmp_path, item)
    manifest = tmp_path / "m.jsonl"
    with ManifestWriter(manifest, "generate") as writer:
        writer.append("start", key="v0", attempt=1)  # the kill came before "done"
        writer.append("done", key="v1", attempt=1, seconds=0.1, metadata={"square": 1})
    common = dict(
        manifest_path=manifest,
        resources=Resources(num_gpus=1),
        is_complete=is_complete(tmp_path),
        progress=False,
    )
    summary = run_stage("generate", items, FileWorker, {"out_dir": str(tmp_path)}, **common)
    assert (summary.done, summary.skipped, summary.num_workers) == (0, 3, 0)
    assert not (tmp_path / "_attempts").exists()  # no worker ran
    states = read_manifest(manifest)
    assert {k: s.status for k, s in states.items()} == {"v0": "done", "v1": "done", "v2": "done"}
    assert states["v1"].metadata == {"square": 1}
    found = [e["key"] for e in iter_events(manifest) if e["event"] == FOUND]
    assert sorted(found) == ["v0", "v2"]
    run_stage("generate", items, FileWorker, {"out_dir": str(tmp_path)}, **common)
    assert sum(e["event"] == FOUND for e in iter_events(manifest)) == 2  # not logged again
