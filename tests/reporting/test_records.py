"""Loading and merging run folders; malformed inputs are UserErrors that name the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from repvideo_eval import registry
from repvideo_eval.errors import UserError
from repvideo_eval.reporting.records import load_records
from repvideo_eval.vocabulary import is_random_weights_id


def test_merges_runs_of_different_models(tmp_path: Path, run_builder, card_factory) -> None:
    run_builder(tmp_path / "a", [card_factory("cogvideox-tiny")])
    run_builder(
        tmp_path / "b",
        [
            card_factory(
                "repvideo-tiny",
                repvideo={"cache_window": 6, "gates": "learned", "gate_value": None},
            )
        ],
    )
    records = load_records([tmp_path / "a", tmp_path / "b"])
    assert records.rows == ["cogvideox-tiny", "repvideo-tiny"]
    assert records.cards["repvideo-tiny"]["repvideo"]["cache_window"] == 6
    assert records.run_ids == {"cogvideox-tiny": ["a"], "repvideo-tiny": ["b"]}
    assert len(records.rows_table("cogvideox-tiny")) == 4 * 2 * 2  # prompts x samples x dimensions
    assert records.random_weights()


def test_same_model_with_two_cards_gets_two_labelled_rows(
    tmp_path: Path, run_builder, card_factory
) -> None:
    run_builder(tmp_path / "a", [card_factory("cogvideox-tiny")])
    run_builder(tmp_path / "b", [card_factory("cogvideox-tiny", num_inference_steps=4)])
    records = load_records([tmp_path / "a", tmp_path / "b"])
    assert len(records.rows) == 2
    assert all(label.startswith("cogvideox-tiny [") for label in records.rows)


def test_duplicate_records_keep_the_newest_run(tmp_path: Path, run_builder, card_factory) -> None:
    card = card_factory("cogvideox-tiny")
    run_builder(tmp_path / "old", [card], score=lambda *a: 0.1, created="2026-01-01T00:00:00Z")
    run_builder(tmp_path / "new", [card], score=lambda *a: 0.9, created="2026-02-01T00:00:00Z")
    records = load_records([tmp_path / "new", tmp_path / "old"])
    assert len(records.table) == 4 * 2 * 2
    assert set(records.table["score"]) == {0.9}
    assert any("duplicate" in note for note in records.notes)


def test_empty_score_without_error_counts_as_error(
    tmp_path: Path, run_builder, card_factory
) -> None:
    run = run_builder(
        tmp_path / "a", [card_factory("m")], errors={("m", 0, 0, "subject_consistency")}
    )
    csv_path = run / "per_video.csv"
    csv_path.write_text(csv_path.read_text().replace("decode failed: synthetic", ""))
    records = load_records([run])
    assert (records.table["error"] == "no score recorded").sum() == 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda run: (run / "per_video.csv").unlink(), "per_video.csv is missing"),
        (lambda run: (run / "run.json").write_text("{not json"), "not valid JSON"),
        (lambda run: (run / "per_video.csv").write_text("model,prompt\nm,p\n"), "lacks columns"),
        (lambda run: _edit_csv(run, ",0.75,", ",1.5,"), "outside -1..1"),
        (lambda run: _edit_csv(run, ",1.0,", ",-1,"), "positive number"),
        (lambda run: _edit_csv(run, ",1.0,", ",abc,"), "positive number"),
        (
            lambda run: (run / "run.json").write_text(json.dumps({"run_id": "x", "models": {}})),
            "run.json does not describe",
        ),
    ],
)
def test_malformed_runs_raise_user_errors(
    tmp_path: Path, run_builder, card_factory, mutate, message
) -> None:
    run = run_builder(tmp_path / "a", [card_factory("m")], score=lambda *a: 0.75)
    mutate(run)
    with pytest.raises(UserError, match=message):
        load_records([run])


def _edit_csv(run: Path, old: str, new: str) -> None:
    path = run / "per_video.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n")


def test_missing_folder_and_no_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_records([tmp_path / "nope"])
    with pytest.raises(UserError, match="no run folder"):
        load_records([])


def test_failed_record_may_have_an_empty_weight(tmp_path: Path, run_builder, card_factory) -> None:
    run = run_builder(
        tmp_path / "a", [card_factory("m")], errors={("m", 0, 0, "subject_consistency")}
    )
    path = run / "per_video.csv"
    lines = path.read_text().splitlines()
    failed = next(i for i, line in enumerate(lines) if "decode failed" in line)
    lines[failed] = lines[failed].replace(",1.0,decode failed", ",,decode failed")
    path.write_text("\n".join(lines) + "\n")
    records = load_records([run])
    assert (records.table["error"] != "").sum() == 1


def _with_legacy_weight_column(run: Path) -> None:
    """Rewrite per_video.csv as files were written before `weight` became `aggregation_weight`."""
    path = run / "per_video.csv"
    header, rest = path.read_text().split("\n", 1)
    columns = header.split(",")
    assert "aggregation_weight" in columns and "weight" not in columns
    columns[columns.index("aggregation_weight")] = "weight"
    path.write_text(",".join(columns) + "\n" + rest)


def test_per_video_csv_from_before_the_weight_rename_reports_the_same(
    tmp_path: Path, run_builder, card_factory
) -> None:
    """Records, leaderboard and bootstrap intervals do not depend on the column's old name."""
    from repvideo_eval.reporting import write_reports

    def build(parent: Path) -> Path:
        return run_builder(
            parent / "run",
            [card_factory("cogvideox-tiny")],
            aggregation_weight=lambda m, p, s, d: 48.0 if p % 2 else 1.0,
            errors={("cogvideox-tiny", 1, 0, "motion_smoothness")},
        )

    current, legacy = build(tmp_path / "current"), build(tmp_path / "legacy")
    _with_legacy_weight_column(legacy)
    new_table = load_records([current]).table
    old_table = load_records([legacy]).table
    assert set(new_table["aggregation_weight"]) == {0.0, 1.0, 48.0}
    pd.testing.assert_frame_equal(
        old_table.drop(columns=["run_dir"], errors="ignore"),
        new_table.drop(columns=["run_dir"], errors="ignore"),
    )
    reports = {
        name: write_reports([run], tmp_path / f"report-{name}", n_resamples=200, gallery=False)
        for name, run in (("current", current), ("legacy", legacy))
    }
    for name in ("leaderboard.csv", "leaderboard.md"):
        assert (tmp_path / "report-legacy" / name).read_text() == (
            tmp_path / "report-current" / name
        ).read_text()
    assert reports["legacy"].markdown_text == reports["current"].markdown_text


def test_a_column_under_its_old_and_new_name_is_a_user_error(
    tmp_path: Path, run_builder, card_factory
) -> None:
    run = run_builder(tmp_path / "a", [card_factory("m")])
    path = run / "per_video.csv"
    lines = path.read_text().splitlines()
    lines = [line + ("," + ("weight" if i == 0 else "1.0")) for i, line in enumerate(lines)]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match="repeats a column"):
        load_records([run])


def _field_boundaries_of_last_row(data: bytes) -> list[int]:
    """Byte offsets just before each separator of the file's last row (a cut there leaves whole
    fields), plus the offset just before the row's line end."""
    body = data.rstrip(b"\r\n")
    start = body.rfind(b"\n") + 1
    cuts, quoted = [], False
    for offset in range(start, len(body)):
        char = body[offset : offset + 1]
        if char == b'"':
            quoted = not quoted
        elif char == b"," and not quoted:
            cuts.append(offset)
    return [*cuts, len(body)]


def test_a_file_cut_at_a_field_boundary_is_refused(
    tmp_path: Path, run_builder, card_factory
) -> None:
    """A per_video.csv cut anywhere in its last row, even between two fields (which a CSV parser
    reads as a short row), is refused in one line rather than read with empty fields."""
    run = run_builder(tmp_path / "a", [card_factory("m")], score=lambda *a: 0.75)
    path = run / "per_video.csv"
    whole = path.read_bytes()
    complete = len(load_records([run]).table)
    cuts = _field_boundaries_of_last_row(whole)
    assert len(cuts) > 5
    for cut in cuts:
        path.write_bytes(whole[:cut])
        with pytest.raises(UserError, match="last row is incomplete"):
            load_records([run])
    # A cut exactly after a line end is a shorter but whole file: its complete rows are read.
    path.write_bytes(whole[: whole.rstrip(b"\r\n").rfind(b"\n") + 1])
    assert len(load_records([run]).table) == complete - 1


def test_a_short_row_inside_the_file_is_named_by_its_line(
    tmp_path: Path, run_builder, card_factory
) -> None:
    run = run_builder(tmp_path / "a", [card_factory("m")], score=lambda *a: 0.75)
    path = run / "per_video.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].rsplit(",", 1)[0] + "\r\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(UserError, match=r"line 3 has \d+ fields, the header"):
        load_records([run])


def test_reports_flag_tiny_cards_even_with_official_scorer_weights(
    tmp_path: Path, run_builder, card_factory
) -> None:
    """Tiny cards say `weights: tiny:cogvideox`; before, only a `tiny-random` label was seen."""
    tiny = registry.load_card("cogvideox-tiny").to_dict()
    real = {**card_factory("cogvideox-2b"), "weights": "THUDM/CogVideoX-2b", "source": "hub"}
    run_builder(tmp_path / "tiny", [tiny], weights_id="clip:0123abcd")
    run_builder(tmp_path / "real", [real], weights_id="clip:0123abcd")
    records = load_records([tmp_path / "tiny", tmp_path / "real"])
    assert records.random_weights("cogvideox-tiny")
    assert not records.random_weights("cogvideox-2b")
    assert is_random_weights_id("tiny-random:seed=0:detector=owlv2")
    assert not is_random_weights_id("grit:0123")
