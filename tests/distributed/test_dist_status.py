"""The status readout of a manifest (what a researcher runs from another shell)."""

from __future__ import annotations

from repvideo_eval.distributed.manifest import ManifestWriter
from repvideo_eval.distributed.status import main, stage_status


def _write(path) -> None:
    with ManifestWriter(path, "generate") as writer:
        writer.append("run", total=5)
        for key, secs, node in (("a", 1.0, "nodeA"), ("b", 3.0, "nodeA"), ("c", 2.0, "nodeB")):
            writer.append("start", key=key, attempt=1, node=node)
            writer.append("done", key=key, attempt=1, seconds=secs, node=node, metadata={})
        writer.append("start", key="d", attempt=1)
        writer.append("error", key="d", attempt=1, error="ValueError: bad prompt", retry=False)
        writer.append("start", key="e", attempt=1)  # interrupted


def test_status_counts_timings_and_failures(tmp_path, capsys) -> None:
    path = tmp_path / "generate.jsonl"
    _write(path)
    status = stage_status(path)
    assert status.stage == "generate" and status.total == 5
    assert dict(status.counts) == {"done": 3, "failed": 1, "started": 1}
    assert status.remaining == 1
    assert sorted(status.seconds) == [1.0, 2.0, 3.0]
    assert {k: len(v) for k, v in status.per_node.items()} == {"nodeA": 2, "nodeB": 1}
    assert main([str(path)]) == 1  # a failure: non-zero, for scripts
    out = capsys.readouterr().out
    assert "3 done, 1 failed, 0 waiting for a retry, 1 started" in out and "1 of 5 left" in out
    assert "median 2.00" in out and "failed d: ValueError: bad prompt" in out


def test_status_of_a_missing_manifest_is_an_error(tmp_path, capsys) -> None:
    assert main([str(tmp_path / "nope.jsonl")]) == 2
    assert "no manifest" in capsys.readouterr().err
