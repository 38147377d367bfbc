"""Protocol of every row: published rows state every field with a source; measured rows derive
theirs from what the run recorded; leaderboard.md marks which published rows share it."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from repvideo_eval.errors import UserError
from repvideo_eval.reporting import write_reports
from repvideo_eval.reporting.protocol import (
    PROTOCOL_FIELDS,
    UNKNOWN,
    Protocol,
    differences,
    protocol_match,
)
from repvideo_eval.reporting.reference import (
    DEFAULT_REFERENCE_DIR,
    PROTOCOLS_FILE,
    load_reference_rows,
)
from tests.reporting.twins import LEADERBOARD_RUN_META, twin_run


def test_every_published_row_states_every_field_with_a_source() -> None:
    rows = load_reference_rows()
    assert len(rows) == 13  # 11 Table I rows + the 2 leaderboard CogVideoX rows
    for row in rows:
        assert set(row.protocol_sources) == set(PROTOCOL_FIELDS), row.row_id
        for name in PROTOCOL_FIELDS:
            assert getattr(row.protocol, name).strip(), (row.row_id, name)
            assert len(row.protocol_sources[name]) > 20, (row.row_id, name)
    # No line of the protocols file names a row that no table holds, and none is repeated.
    with (DEFAULT_REFERENCE_DIR / PROTOCOLS_FILE).open(newline="", encoding="utf-8") as handle:
        lines = [(line["row_id"], line["field"]) for line in csv.DictReader(handle)]
    assert len(lines) == len(set(lines)) == len(rows) * len(PROTOCOL_FIELDS)
    assert {row_id for row_id, _ in lines} == {row.row_id for row in rows}


def test_leaderboard_cogvideox_rows_state_what_the_maintainers_said() -> None:
    rows = {row.row_id: row for row in load_reference_rows()}
    for row_id in ("vbench-leaderboard:CogVideoX-2B", "vbench-leaderboard:CogVideoX-5B"):
        row = rows[row_id]
        assert row.protocol.vbench_mode == row.vbench_mode == "long"
        assert row.protocol.prompt_set == "gpt-enhanced"
        assert row.protocol.frames_hw == "49x480x720" and row.protocol.fps == "8"
        assert "SAT" in row.protocol.model_weights
        assert "#61" in row.protocol_sources["vbench_mode"]
        assert "#77" in row.protocol_sources["prompt_set"]
        assert "#89" in row.protocol_sources["prompt_set"]
        assert row.protocol.seed_scheme == UNKNOWN  # the sources do not say
    # The paper states none of it; its CogVideoX rows point at the leaderboard rows.
    table1 = rows["repvideo-table1:CogVideoX-2B"]
    assert all(value == UNKNOWN for value in table1.protocol.as_dict().values())
    assert "vbench-leaderboard:CogVideoX-2B" in table1.protocol_sources["prompt_set"]


def _copy_reference(tmp_path: Path) -> Path:
    folder = tmp_path / "reference"
    shutil.copytree(DEFAULT_REFERENCE_DIR, folder)
    return folder


def test_a_published_row_without_a_field_is_refused(tmp_path: Path) -> None:
    folder = _copy_reference(tmp_path)
    path = folder / PROTOCOLS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("repvideo-table1:LaVie,detector,")]
    assert len(kept) == len(lines) - 1
    path.write_text("".join(kept), encoding="utf-8")
    with pytest.raises(UserError, match="lacks detector for repvideo-table1:LaVie"):
        load_reference_rows(folder)


def test_a_published_value_without_a_source_is_refused(tmp_path: Path) -> None:
    folder = _copy_reference(tmp_path)
    path = folder / PROTOCOLS_FILE
    with path.open("a", encoding="utf-8") as handle:
        handle.write("repvideo-table1:LaVie,fps,8,\n")
    with pytest.raises(UserError, match="line 158"):
        load_reference_rows(folder)


def test_a_reference_table_in_fractions_is_refused(tmp_path: Path) -> None:
    folder = _copy_reference(tmp_path)
    path = folder / "repvideo_table1.csv"
    path.write_text(
        "method,total_score,motion_smoothness,source\nLaVie,0.7708,0.9638,paper\n", encoding="utf-8"
    )
    with pytest.raises(UserError, match="fractions, not percentages"):
        load_reference_rows(folder)


def test_measured_protocol_comes_from_what_the_run_recorded(tmp_path: Path) -> None:
    run = twin_run(tmp_path / "run")
    paths = write_reports([run], tmp_path / "out", gallery=False, plots=False, n_resamples=200)
    board = json.loads(paths.json.read_text(encoding="utf-8"))
    cog = next(row for row in board["rows"] if row["model"] == "cogvideox-tiny")
    assert cog["protocol"] == {
        "model_weights": "tiny:cogvideox (tiny)",
        "vbench_mode": "standard",
        "prompt_set": "standard",  # run.json without prompt_set: VBench's standard prompts
        "frames_hw": "9x64x64",
        "fps": "8",
        "sampler": "dpm++2m, cfg 6.0 dynamic (exp 5.0)",
        "steps": "2",
        "seed_scheme": "100000*prompt_index+sample",
        "samples_per_prompt": "5",
        "scoring_weights": "tiny-random",
        "detector": "n/a",
        "vbench_version": "0.1.5",
    }
    rep = next(row for row in board["rows"] if row["model"] == "repvideo-tiny")
    assert rep["protocol"] == cog["protocol"]  # the twins differ only in the method
    reported = {row["row_id"]: row for row in board["reported"]}
    assert reported["vbench-leaderboard:CogVideoX-2B"]["shares_protocol"] == "other protocol"
    assert reported["repvideo-table1:RepVideo"]["shares_protocol"].startswith("protocol unverified")
    markdown = paths.markdown.read_text(encoding="utf-8")
    assert "## Protocols" in markdown and " frames x height x width |" in markdown
    header, *_ = csv.reader(paths.csv.read_text(encoding="utf-8").splitlines())
    assert {f"protocol_{name}" for name in PROTOCOL_FIELDS} <= set(header)


def test_leaderboard_marks_the_published_rows_that_share_the_protocol(tmp_path: Path) -> None:
    """A run recorded with the leaderboard's protocol (VBench-Long, GPT-enhanced, 49x480x720 at
    8 fps, 5 samples, official scorers, GRiT) shares it with both leaderboard CogVideoX rows."""
    run = twin_run(
        tmp_path / "run", meta=LEADERBOARD_RUN_META, vbench_mode="long", leaderboard_card=True
    )
    paths = write_reports([run], tmp_path / "out", gallery=False, plots=False, n_resamples=200)
    markdown = paths.markdown.read_text(encoding="utf-8")
    line = next(
        text
        for text in markdown.splitlines()
        if text.startswith("| CogVideoX-2B (reported, published VBench)")
    )
    assert "reported; same protocol as cogvideox-2b" in line
    table1 = next(
        text
        for text in markdown.splitlines()
        if text.startswith("| CogVideoX-2B (reported, RepVideo paper")
    )
    assert "protocol unverified" in table1
    note = next(
        text for text in markdown.splitlines() if "share no measured row's protocol" in text
    )
    assert "repvideo-table1:LaVie" in note and "vbench-leaderboard:CogVideoX-2B" not in note


def test_protocol_match_states() -> None:
    base = Protocol(
        model_weights="a",
        vbench_mode="long",
        prompt_set="gpt-enhanced",
        frames_hw="49x480x720",
        fps="8",
        sampler="x",
        steps="50",
        seed_scheme=UNKNOWN,
        samples_per_prompt="5",
        scoring_weights="official",
        detector="grit",
        vbench_version=UNKNOWN,
    )
    other_model = Protocol(**{**base.as_dict(), "model_weights": "b", "detector": "grit-torch"})
    assert protocol_match(base, other_model) == "same"  # weights are the model; GRiT ports are GRiT
    assert [d.field for d in differences(base, other_model)] == [
        "model_weights",
        "seed_scheme",
        "vbench_version",
    ]
    assert (
        protocol_match(base, Protocol(**{**base.as_dict(), "prompt_set": "standard"})) == "differs"
    )
    assert protocol_match(base, Protocol(**{**base.as_dict(), "fps": UNKNOWN})) == "unverified"
    assert protocol_match(base, Protocol(**{**base.as_dict(), "vbench_version": "0.1.5"})) == "same"
