"""write_study_report end to end on a small database with known votes."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from scipy.stats import binomtest

from repvideo_eval.errors import UserError
from repvideo_eval.study.report import write_study_report
from repvideo_eval.study.stats import fleiss_kappa, krippendorff_alpha_nominal
from repvideo_eval.study.summary import load_table2
from tests.study.study_votes import CRITERIA, MODELS, StudyBuilder

A, B = MODELS
RATERS, PROMPTS = 4, [f"prompt {i}" for i in range(5)]
SPATIAL, TEMPORAL, ALIGNMENT = CRITERIA


def planned_winner(criterion: str, k: int) -> str:
    """Vote k (0..19) of a criterion: spatial 15 B, 4 A, 1 tie; temporal 10/10; alignment all B."""
    if criterion == SPATIAL:
        return B if k < 15 else (A if k < 19 else "tie")
    if criterion == TEMPORAL:
        return B if k < 10 else A
    return B


def build_known_study(study_dir: Path, *, unvoted: int = 0) -> Path:
    """4 raters x 5 prompts x 3 criteria with the votes above, sides alternating; two repeats:
    rater 0 repeats (prompt 0, spatial) with sides swapped and the same model (consistent),
    rater 1 repeats (prompt 1, temporal) choosing the other model (inconsistent)."""
    with StudyBuilder(study_dir, n_raters=RATERS) as study:
        tasks = {}
        for criterion in CRITERIA:
            for rater in range(RATERS):
                for p, prompt in enumerate(PROMPTS):
                    k = rater * len(PROMPTS) + p
                    tasks[rater, p, criterion] = study.judge(
                        rater, prompt, criterion, planned_winner(criterion, k), a_left=k % 2 == 0
                    )
        study.judge(0, PROMPTS[0], SPATIAL, B, a_left=False, repeat_of=tasks[0, 0, SPATIAL])
        study.judge(1, PROMPTS[1], TEMPORAL, A, a_left=True, repeat_of=tasks[1, 1, TEMPORAL])
        for i in range(unvoted):
            study.task(2, PROMPTS[i], SPATIAL, sample=1)
    return study_dir


@pytest.fixture(scope="module")
def known_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    study_dir = build_known_study(tmp_path_factory.mktemp("known") / "study")
    return study_dir, write_study_report(study_dir, n_resamples=400, seed=3)


def test_writes_the_files_it_returns(known_report: tuple[Path, list[Path]]) -> None:
    study_dir, paths = known_report
    names = ["study.csv", "study.md", "study.json", "study_win_ratios.png", "study_win_ratios.svg"]
    assert paths == [study_dir / name for name in names]
    assert paths[3].read_bytes().startswith(b"\x89PNG")
    assert "<svg" in paths[4].read_text(encoding="utf-8")
    assert not [p for p in study_dir.iterdir() if p.name.startswith(".")]  # no temp files


def test_json_has_the_known_counts_ratios_and_tests(known_report: tuple[Path, list[Path]]) -> None:
    study_dir, _ = known_report
    doc = json.loads((study_dir / "study.json").read_text(encoding="utf-8"))
    results = doc["results"]
    assert list(results) == [*CRITERIA, "overall"]
    spatial = results[SPATIAL]
    assert (spatial["votes"], spatial["wins"], spatial["ties"]) == (20, {A: 4, B: 15}, 1)
    assert spatial["win_ratio"][B]["value"] == pytest.approx(100 * 15 / 19)
    assert spatial["win_ratio"][A]["value"] == pytest.approx(100 * 4 / 19)
    assert spatial["tie_rate"]["value"] == pytest.approx(5.0)
    assert spatial["sign_test_p"] == pytest.approx(binomtest(4, 19).pvalue)
    for criterion in [*CRITERIA, "overall"]:
        for model in MODELS:
            cell = results[criterion]["win_ratio"][model]
            assert cell["ci_low"] <= cell["value"] <= cell["ci_high"]
    assert results[TEMPORAL]["win_ratio"][B]["value"] == pytest.approx(50.0)
    assert results[TEMPORAL]["sign_test_p"] == pytest.approx(1.0)
    alignment = results[ALIGNMENT]["win_ratio"][B]
    assert (alignment["value"], alignment["ci_low"], alignment["ci_high"]) == (100.0, 100.0, 100.0)
    overall = results["overall"]
    assert (overall["votes"], overall["wins"], overall["ties"]) == (60, {A: 14, B: 45}, 1)
    assert overall["win_ratio"][B]["value"] == pytest.approx(100 * 45 / 59)
    assert (overall["n_prompts"], overall["n_raters"]) == (5, 4)
    assert (doc["votes"], doc["tasks"], doc["raters"], doc["complete"]) == (62, 62, 4, True)


def test_side_bias_counts_screen_sides(known_report: tuple[Path, list[Path]]) -> None:
    study_dir, _ = known_report
    results = json.loads((study_dir / "study.json").read_text(encoding="utf-8"))["results"]
    for criterion in CRITERIA:
        sides = {"left": 0, "right": 0}
        for k in range(RATERS * len(PROMPTS)):
            winner = planned_winner(criterion, k)
            if winner != "tie":
                sides["left" if (winner == A) == (k % 2 == 0) else "right"] += 1
        got = results[criterion]["sides"]
        assert (got["left"], got["right"]) == (sides["left"], sides["right"])
        assert got["sign_test_p"] == pytest.approx(
            binomtest(sides["left"], sum(sides.values())).pvalue
        )


def test_agreement_uses_model_winners_per_pair_and_criterion(
    known_report: tuple[Path, list[Path]],
) -> None:
    study_dir, _ = known_report
    results = json.loads((study_dir / "study.json").read_text(encoding="utf-8"))["results"]
    units = [
        [planned_winner(SPATIAL, r * len(PROMPTS) + p) for r in range(RATERS)]
        for p in range(len(PROMPTS))
    ]
    table = [[unit.count(v) for v in (A, B, "tie")] for unit in units]
    agreement = results[SPATIAL]["agreement"]
    assert agreement["krippendorff_alpha"] == pytest.approx(krippendorff_alpha_nominal(units))
    assert agreement["fleiss_kappa"] == pytest.approx(fleiss_kappa(table))
    assert (agreement["units"], agreement["ratings"]) == (5, 20)  # the repeat is not a rating
    assert results[ALIGNMENT]["agreement"]["krippendorff_alpha"] is None  # no variation


def test_self_consistency_compares_models_not_sides(known_report: tuple[Path, list[Path]]) -> None:
    study_dir, _ = known_report
    results = json.loads((study_dir / "study.json").read_text(encoding="utf-8"))["results"]
    assert results[SPATIAL]["self_consistency"]["rate"] == 100.0  # sides swapped, same model
    assert results[TEMPORAL]["self_consistency"]["rate"] == 0.0
    assert results[ALIGNMENT]["self_consistency"]["rate"] is None
    overall = results["overall"]["self_consistency"]
    assert (overall["rate"], overall["repeats"]) == (50.0, 2)
    assert overall["per_rater"] == {"0": {"same": 1, "repeats": 1}, "1": {"same": 0, "repeats": 1}}


def test_markdown_is_the_paper_layout_with_reported_rows(
    known_report: tuple[Path, list[Path]],
) -> None:
    study_dir, _ = known_report
    text = (study_dir / "study.md").read_text(encoding="utf-8")
    assert (
        "| Method | Kind | Overall Score | Spatial Appearance | Temporal Consistency | "
        "Video-text alignment |" in text
    )
    assert f"| {B} | measured | 76.27 [" in text
    assert (
        "| RepVideo (reported, RepVideo paper Table II) | reported | 75.46 | 75.00 | 74.07 | 76.62 |"
        in text
    )
    assert "arXiv 2501.08994" in text and "ties" in text


def test_csv_rows_match_the_json_and_the_paper(known_report: tuple[Path, list[Path]]) -> None:
    study_dir, _ = known_report
    with (study_dir / "study.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    measured = {(r["model"], r["criterion"]): r for r in rows if r["kind"] == "measured"}
    reported = {(r["model"], r["criterion"]): r for r in rows if r["kind"] == "reported"}
    assert len(measured) == 8 and len(reported) == 8
    spatial_b = measured[B, SPATIAL]
    assert float(spatial_b["win_ratio"]) == pytest.approx(100 * 15 / 19, abs=1e-5)
    assert (spatial_b["wins"], spatial_b["losses"], spatial_b["ties"]) == ("15", "4", "1")
    paper = {ref.method: ref for ref in load_table2()}
    assert float(reported["CogVideoX-2B", "overall"]["win_ratio"]) == 25.54
    assert float(reported["RepVideo", TEMPORAL]["win_ratio"]) == paper["RepVideo"].values[TEMPORAL]
    assert "Table II" in reported["RepVideo", "overall"]["source"]


def test_same_seed_same_report_other_seed_other_intervals(tmp_path: Path) -> None:
    study_dir = build_known_study(tmp_path / "study")
    first = write_study_report(study_dir, out_dir=tmp_path / "a", plots=False, n_resamples=200)
    write_study_report(study_dir, out_dir=tmp_path / "b", plots=False, n_resamples=200)
    write_study_report(study_dir, out_dir=tmp_path / "c", plots=False, n_resamples=200, seed=9)
    assert [p.name for p in first] == ["study.csv", "study.md", "study.json"]

    def spatial(folder: str) -> dict[str, float]:
        doc = json.loads((tmp_path / folder / "study.json").read_text(encoding="utf-8"))
        return doc["results"][SPATIAL]["win_ratio"][B]

    assert (tmp_path / "a" / "study.json").read_bytes() == (
        tmp_path / "b" / "study.json"
    ).read_bytes()
    assert spatial("a")["value"] == spatial("c")["value"]
    assert (spatial("a")["ci_low"], spatial("a")["ci_high"]) != (
        spatial("c")["ci_low"],
        spatial("c")["ci_high"],
    )


def test_incomplete_study_is_reported_as_such(tmp_path: Path) -> None:
    study_dir = build_known_study(tmp_path / "study", unvoted=3)
    write_study_report(study_dir, plots=False, n_resamples=200)
    doc = json.loads((study_dir / "study.json").read_text(encoding="utf-8"))
    assert (doc["votes"], doc["tasks"], doc["complete"]) == (62, 65, False)
    assert "62 of 65 planned tasks voted (**study still incomplete**)" in (
        study_dir / "study.md"
    ).read_text(encoding="utf-8")


def test_other_criteria_and_no_reference(tmp_path: Path) -> None:
    with StudyBuilder(tmp_path / "s", criteria=["motion_quality"], allow_ties=False) as study:
        for rater in range(3):
            study.judge(rater, "p", "motion_quality", A)
    paths = write_study_report(tmp_path / "s", plots=False, reference=False, n_resamples=200)
    text = paths[1].read_text(encoding="utf-8")
    assert "| Method | Kind | Overall Score | Motion quality |" in text
    assert "| Motion quality | 3 | 3 | 0 | 0 | not offered |" in text
    doc = json.loads(paths[2].read_text(encoding="utf-8"))
    assert doc["reported"] == []
    assert doc["results"]["motion_quality"]["win_ratio"][A]["value"] == 100.0
    assert math.isclose(doc["results"]["overall"]["sign_test_p"], 0.25)


def test_random_weight_videos_are_flagged(tmp_path: Path) -> None:
    def run_json(folder: str, weights: dict[str, str]) -> Path:
        models = {name: {"card_hash": "x", "card": {"weights": w}} for name, w in weights.items()}
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "run.json").write_text(json.dumps({"models": models}))
        return tmp_path / folder

    real = run_json("real", {A: "THUDM/CogVideoX-2b", "other": "tiny-random:seed=0"})
    tiny = run_json("tiny", {B: "tiny-random:seed=0"})
    for name, runs in [("flagged", [real, tiny, tmp_path / "moved"]), ("clean", [real])]:
        with StudyBuilder(tmp_path / name, runs=runs) as study:
            study.judge(0, "p", SPATIAL, A)
        paths = write_study_report(tmp_path / name, plots=False, n_resamples=200)
        doc = json.loads(paths[2].read_text(encoding="utf-8"))
        flagged = "RANDOM WEIGHTS" in paths[1].read_text(encoding="utf-8")
        assert flagged == (name == "flagged")
        assert doc["warnings"] == (
            [
                f"RANDOM WEIGHTS: {B} generated their videos with random weights (a tiny or "
                "random model card); this study tests the code path, not the models."
            ]
            if name == "flagged"
            else []
        )


def test_a_study_without_votes_is_a_user_error_and_writes_nothing(tmp_path: Path) -> None:
    with StudyBuilder(tmp_path / "s") as study:
        study.task(0, "p", SPATIAL)
    with pytest.raises(UserError, match="no votes yet"):
        write_study_report(tmp_path / "s")
    # Only the database and SQLite's own WAL sidecars (a read-only reader leaves them in place).
    assert {p.name for p in (tmp_path / "s").iterdir()} <= {
        "study.sqlite3",
        "study.sqlite3-wal",
        "study.sqlite3-shm",
    }


def test_a_folder_without_a_study_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no study database"):
        write_study_report(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_table2_file_is_the_papers_numbers() -> None:
    rows = {ref.method: ref.values for ref in load_table2()}
    assert rows["CogVideoX-2B"] == {
        "overall": 25.54,
        "spatial_appearance": 25.00,
        "temporal_consistency": 25.93,
        "video_text_alignment": 23.38,
    }
    assert rows["RepVideo"] == {
        "overall": 75.46,
        "spatial_appearance": 75.00,
        "temporal_consistency": 74.07,
        "video_text_alignment": 76.62,
    }


def test_a_criterion_without_votes_yet_is_shown_as_missing(tmp_path: Path) -> None:
    with StudyBuilder(tmp_path / "s") as study:
        study.judge(0, "p", SPATIAL, B)
        study.judge(1, "p", SPATIAL, A)
        study.task(0, "p", TEMPORAL)
    paths = write_study_report(tmp_path / "s", n_resamples=200)
    doc = json.loads(paths[2].read_text(encoding="utf-8"))
    temporal = doc["results"][TEMPORAL]
    assert temporal["votes"] == 0 and temporal["win_ratio"][B]["value"] is None
    assert temporal["tie_rate"]["value"] is None and temporal["sign_test_p"] is None
    assert doc["results"][SPATIAL]["win_ratio"][B]["value"] == 50.0
    assert f"| {B} | measured | 50.00 [0.00, 100.00] | 50.00 [0.00, 100.00] | – | – |" in (
        paths[1].read_text(encoding="utf-8")
    )
    with paths[0].open(newline="", encoding="utf-8") as handle:
        temporal_rows = [r for r in csv.DictReader(handle) if r["criterion"] == TEMPORAL]
    assert [r["win_ratio"] for r in temporal_rows if r["kind"] == "measured"] == ["", ""]
