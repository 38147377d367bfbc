"""Loading judgements: sides become models, only committed votes count, bad folders are errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from repvideo_eval.errors import UserError
from repvideo_eval.study.results import load_study
from repvideo_eval.study.schema import DATABASE_NAME
from tests.study.study_votes import MODELS, StudyBuilder

A, B = MODELS


def test_sides_are_mapped_to_models(tmp_path: Path) -> None:
    with StudyBuilder(tmp_path / "s", n_raters=2) as study:
        left_b = study.judge(0, "a cat", "spatial_appearance", B, a_left=False)
        left_a = study.judge(0, "a cat", "temporal_consistency", B, a_left=True)
        tie = study.judge(1, "a dog", "spatial_appearance", "tie", sample=3)
        study.judge(1, "a cat", "spatial_appearance", B, a_left=True, repeat_of=left_b)
        study.task(1, "a dog", "temporal_consistency")  # assigned, not voted
    data = load_study(tmp_path / "s")
    rows = data.judgements.set_index("task_id")
    assert (rows.loc[left_b, "choice"], rows.loc[left_b, "winner"]) == ("left", B)
    assert (rows.loc[left_a, "choice"], rows.loc[left_a, "winner"]) == ("right", B)
    assert (rows.loc[tie, "winner"], rows.loc[tie, "sample"], rows.loc[tie, "seed"]) == (
        "tie",
        3,
        1003,
    )
    assert rows.loc[left_a, "repeat_of"] == ""
    assert set(rows[rows["repeat_of"] != ""]["repeat_of"]) == {left_b}
    assert (data.models, data.n_raters, data.n_tasks, data.n_votes) == ((A, B), 2, 5, 4)
    assert data.criteria == ("spatial_appearance", "temporal_consistency", "video_text_alignment")


def test_reads_committed_votes_while_a_writer_holds_the_database(tmp_path: Path) -> None:
    with StudyBuilder(tmp_path / "s") as study:
        study.judge(0, "p", "spatial_appearance", A)
        pending = study.task(1, "p", "spatial_appearance")
    writer = sqlite3.connect(tmp_path / "s" / DATABASE_NAME)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO votes VALUES (?, 1, 'left', 2.0)", (pending,))
        assert load_study(tmp_path / "s").n_votes == 1  # the uncommitted vote is not seen
        writer.commit()
        assert load_study(tmp_path / "s").n_votes == 2
    finally:
        writer.close()


def test_missing_database_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no study database study.sqlite3 in .*study create"):
        load_study(tmp_path)


def test_not_a_database_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / DATABASE_NAME).write_text("not sqlite at all, " * 100)
    with pytest.raises(UserError, match="cannot read the study database"):
        load_study(tmp_path)


def test_other_schema_version_is_a_user_error(tmp_path: Path) -> None:
    with StudyBuilder(tmp_path / "s") as study:
        study.db.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (json.dumps(99),)
        )
    with pytest.raises(UserError, match="schema version 99"):
        load_study(tmp_path / "s")


def test_a_video_of_a_third_model_is_a_user_error(tmp_path: Path) -> None:
    with StudyBuilder(tmp_path / "s") as study:
        study.judge(0, "p", "spatial_appearance", A)
        study.db.execute("UPDATE videos SET model = 'intruder'")
    with pytest.raises(UserError, match="intruder"):
        load_study(tmp_path / "s")
