"""The manifest: events fold into item states; torn lines and a second writer are handled."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from repvideo_eval.distributed.manifest import ManifestWriter, read_manifest
from repvideo_eval.errors import UserError


def test_events_fold_into_the_last_state(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path, "generate") as writer:
        writer.append("start", key="a", attempt=1, worker="h:1", node="n1")
        writer.append("error", key="a", attempt=1, error="boom", retry=True, seconds=0.5)
        writer.append("start", key="a", attempt=2, worker="h:2", node="n2")
        writer.append("done", key="a", attempt=2, seconds=1.5, metadata={"score": 0.25})
        writer.append("start", key="b", attempt=1)
    states = read_manifest(path)
    a, b = states["a"], states["b"]
    assert (a.status, a.attempts, a.metadata, a.worker, a.node) == (
        "done",
        2,
        {"score": 0.25},
        "h:2",
        "n2",
    )
    assert a.seconds == 1.5 and a.total_seconds == 2.0 and a.errors == ["boom"] and a.error is None
    assert b.status == "started" and b.metadata is None


def test_torn_last_line_is_skipped_and_the_next_record_starts_fresh(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path, "s") as writer:
        writer.append("done", key="a", attempt=1, metadata={})
    with open(path, "ab") as handle:
        handle.write(b'{"v":1,"event":"done","stage":"s","key":"b","meta')  # killed mid-write
    assert set(read_manifest(path)) == {"a"}
    with ManifestWriter(path, "s") as writer:
        writer.append("done", key="c", attempt=1, metadata={})
    assert set(read_manifest(path)) == {"a", "c"}


def test_stages_are_kept_apart(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path, "generate") as writer:
        writer.append("done", key="a", attempt=1, metadata={"x": 1})
    with ManifestWriter(path, "score") as writer:
        writer.append("done", key="a", attempt=1, metadata={"x": 2})
    assert read_manifest(path, "score")["a"].metadata == {"x": 2}
    with pytest.raises(ValueError, match="several stages"):
        read_manifest(path)


def test_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path) -> None:
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path, "s"):
        with pytest.raises(UserError, match="another run is writing"):
            ManifestWriter(path, "s")
        # also from another process, as a second driver would be
        code = (
            "import sys; from repvideo_eval.distributed.manifest import ManifestWriter\n"
            "from repvideo_eval.errors import UserError\n"
            "try: ManifestWriter(sys.argv[1], 's')\n"
            "except UserError: sys.exit(7)\n"
        )
        result = subprocess.run([sys.executable, "-c", code, str(path)], env=os.environ.copy())
        assert result.returncode == 7
    ManifestWriter(path, "s").close()  # free again once the first writer is closed


def test_unwritable_manifest_folder_is_a_user_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UserError, match="cannot write the manifest"):
        ManifestWriter(blocker / "sub" / "m.jsonl", "s")
