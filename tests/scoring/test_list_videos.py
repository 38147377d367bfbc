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


@pytest.mark.parametrize("control", ["\n", "\r", "\t", "\x1b", "\x85", "\u2028"])
def test_control_characters_in_a_name_are_parsed_like_any_other(
    tmp_path: Path, control: str
) -> None:
    """`{prompt}-{i}` splits the same way whatever characters the prompt part holds."""
    from repvideo_eval.planning import plan_folder, prompt_from_name

    plain, odd = tmp_path / "a b-3.mp4", tmp_path / f"a{control}b-3.mp4"
    assert prompt_from_name(plain) == "a b"
    assert prompt_from_name(odd) == f"a{control}b"
    assert prompt_from_name(tmp_path / f"a-3{control}.mp4") == f"a-3{control}"  # no sample suffix
    for path in (plain, odd):
        path.write_bytes(b"")
    plan = plan_folder(tmp_path, ["subject_consistency"], mode="custom", model="m")
    samples = {item.prompt: item.sample for item in plan.items}
    assert samples == {"a b": 3, f"a{control}b": 3}
