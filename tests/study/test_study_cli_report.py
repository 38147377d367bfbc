"""`run_eval.py report RUN_DIR --study STUDY_DIR`: the study table beside the leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repvideo_eval.cli.main import main
from tests.reporting.conftest import build_run, make_card
from tests.study.study_votes import CRITERIA, MODELS, StudyBuilder

A, B = MODELS


def build(tmp_path: Path) -> tuple[Path, Path]:
    run = build_run(
        tmp_path / "run",
        [make_card(A), make_card(B, repvideo={"cache_window": 6, "gates": "learned"})],
    )
    with StudyBuilder(tmp_path / "study", n_raters=2) as study:
        for rater in range(2):
            for criterion in CRITERIA:
                study.judge(rater, "a dog running on the beach", criterion, B, a_left=rater == 0)
    return run, tmp_path / "study"


def report(*argv: str) -> int:
    return main(["report", *argv, "--resamples", "200", "--no-gallery"])


@pytest.mark.parametrize("how", ["flag", "detected"])
def test_study_goes_beside_the_leaderboard(tmp_path: Path, capsys, how: str) -> None:
    run, study = build(tmp_path)
    out = tmp_path / "out"
    argv = [str(run), "--study", str(study)] if how == "flag" else [str(study), str(run)]
    assert report(*argv, "--output-dir", str(out)) == 0
    printed = capsys.readouterr().out
    assert (
        printed.startswith("# Leaderboard")
        and f"## User study (blind pairwise): {A} vs {B}" in printed
    )
    leaderboard = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert leaderboard.index("| cogvideox-2b |") < leaderboard.index("## User study")
    assert f"| {B} | measured | 100.00 [100.00, 100.00] |" in leaderboard
    assert "### Per criterion" in leaderboard and "RepVideo paper Table II" in leaderboard
    names = {p.name for p in out.iterdir()}
    assert {"study.csv", "study.md", "study.json", "study_win_ratios.png"} <= names
    assert json.loads((out / "study.json").read_text(encoding="utf-8"))["votes"] == 6
    assert not (study / "study.md").exists()  # the study folder is only read


def test_single_run_with_a_study_defaults_to_the_runs_report_folder(tmp_path: Path) -> None:
    run, study = build(tmp_path)
    assert report(str(run), str(study), "--no-plots") == 0
    assert (run / "report" / "study.json").is_file() and not (study / "report").exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("two studies", "several study folders"),
        ("study only", "no run folder was given"),
        ("empty study", "has no votes yet"),
        ("not a study", "no study database"),
    ],
)
def test_bad_study_arguments_are_one_line_errors_and_write_nothing(
    tmp_path: Path, capsys, case: str, message: str
) -> None:
    run, study = build(tmp_path)
    with StudyBuilder(tmp_path / "empty") as empty:
        empty.task(0, "p", CRITERIA[0])
    argv = {
        "two studies": [str(run), str(study), "--study", str(tmp_path / "empty")],
        "study only": [str(study)],
        "empty study": [str(run), "--study", str(tmp_path / "empty")],
        "not a study": [str(run), "--study", str(tmp_path)],
    }[case]
    out = tmp_path / "out"
    assert report(*argv, "--output-dir", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not out.exists()
