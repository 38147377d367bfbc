"""`score --videos-dir` lists the run's videos, not what a killed writer left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from repvideo_eval.errors import UserError
from repvideo_eval.planning import list_videos


def test_hidden_temporary_files_are_not_videos(tmp_path: Path) -> None:
    for name in ("b-0.mp4", "a-0.mp4", ".a-1.mp4.x1y2z3.tmp.mp4", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_videos(tmp_path)] == ["a-0.mp4", "b-0.mp4"]


def test_a_folder_with_only_leftovers_has_no_videos(tmp_path: Path) -> None:
    (tmp_path / ".a-0.mp4.x1y2z3.tmp.mp4").write_bytes(b"")
    with pytest.raises(UserError, match="No video files"):
        list_videos(tmp_path)
