"""write_reports end to end on synthetic run folders: numbers, formats, warnings, comparisons."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from repvideo_eval.reporting import write_reports
from repvideo_eval.reporting.summary import summary_scores
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS

REPVIDEO = {"cache_window": 6, "gates": "learned", "gate_value": None}
RESAMPLES = 300


def score(model: str, prompt: int, sample: int, dim: str) -> float:
    """Deterministic synthetic scores; the RepVideo row is better by 0.05 everywhere."""
    base = 0.5 + 0.04 * prompt + 0.02 * sample + 0.01 * (len(dim) % 5)
    return base + (0.05 if model.startswith("repvideo") else 0.0)


def aggregation_weight(model: str, prompt: int, sample: int, dim: str) -> float:
    return 48.0 if dim == "subject_consistency" and prompt % 2 else 1.0


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def two_model_report(tmp_path: Path, run_builder, card_factory):
    run = run_builder(
        tmp_path / "run",
        [card_factory("cogvideox-tiny"), card_factory("repvideo-tiny", repvideo=REPVIDEO)],
        score=score,
        aggregation_weight=aggregation_weight,
        errors={("repvideo-tiny", 1, 0, "motion_smoothness")},
    )
    return run, write_reports([run], tmp_path / "report", n_resamples=RESAMPLES, gallery=False)


def expected_percent(model: str, dim: str, skip: set[tuple[int, int]] = frozenset()) -> float:
    pairs = [(p, s) for p in range(4) for s in range(2) if (p, s) not in skip]
    values = np.array([score(model, p, s, dim) for p, s in pairs])
    weights = np.array([aggregation_weight(model, p, s, dim) for p, s in pairs])
    return 100 * float(np.sum(values * weights) / np.sum(weights))


def test_csv_holds_weighted_scores_intervals_and_counts(two_model_report) -> None:
    _run, paths = two_model_report
    rows = {row["row"]: row for row in read_csv(paths.csv)}
    cog = rows["cogvideox-tiny"]
    assert float(cog["subject_consistency"]) == pytest.approx(
        expected_percent("cogvideox-tiny", "subject_consistency"), abs=1e-5
    )
    assert (
        float(cog["subject_consistency_ci_low"])
        <= float(cog["subject_consistency"])
        <= float(cog["subject_consistency_ci_high"])
    )
    rep = rows["repvideo-tiny"]
    assert float(rep["motion_smoothness"]) == pytest.approx(
        expected_percent("repvideo-tiny", "motion_smoothness", {(1, 0)}), abs=1e-5
    )
    assert rep["motion_smoothness_n_videos"] == "7" and rep["motion_smoothness_n_errors"] == "1"
    assert cog["n_videos"] == "8" and cog["kind"] == "measured"
    assert cog["resolution"] == "48x32" and cog["fps"] == "8" and cog["frames"] == "9"
    assert "torch=2.14.1" in cog["versions"] and cog["vbench_mode"] == "standard"
    assert rep["repvideo"] == "cache_window=6, gates=learned"
    reported = [row for row in rows.values() if row["kind"] == "reported"]
    assert len(reported) == 13 and all(
        "reported" in row["row"] and row["source"] for row in reported
    )
    assert all(
        row["total_score"] == "" for row in rows.values() if row["kind"] == "measured"
    )  # partial run: no Total


def test_every_format_says_random_weights(two_model_report) -> None:
    _run, paths = two_model_report
    assert (
        "RANDOM WEIGHTS" in paths.markdown_text
        and paths.markdown.read_text(encoding="utf-8") == paths.markdown_text
    )
    assert all(
        row["random_weights"] == "True" and "not the model" in row["warning"]
        for row in read_csv(paths.csv)
        if row["kind"] == "measured"
    )
    document = json.loads(paths.json.read_text(encoding="utf-8"))
    assert document["warnings"] and "RANDOM WEIGHTS" in document["warnings"][0]
    assert all(row["random_weights"] for row in document["rows"])
    svgs = [p for p in paths.plots if p.suffix == ".svg"]
    assert len(svgs) == 2 and all("RANDOM WEIGHTS" in p.read_text(encoding="utf-8") for p in svgs)
    assert all(
        p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths.plots if p.suffix == ".png"
    )


def test_real_weights_carry_no_warning(tmp_path: Path, run_builder, card_factory) -> None:
    card = {**card_factory("cogvideox-2b"), "weights": "THUDM/CogVideoX-2b"}
    run = run_builder(tmp_path / "run", [card], weights_id="vbench-0.1.5:official")
    paths = write_reports(
        [run], tmp_path / "report", n_resamples=RESAMPLES, gallery=False, plots=False
    )
    assert "RANDOM" not in paths.markdown_text and "RANDOM" not in paths.json.read_text(
        encoding="utf-8"
    )
    # Random generator weights alone (real scorer) are enough for the warning.
    tiny = run_builder(
        tmp_path / "tiny", [card_factory("cogvideox-tiny")], weights_id="vbench-0.1.5:official"
    )
    assert (
        "RANDOM WEIGHTS"
        in write_reports(
            [tiny], tmp_path / "tiny-report", n_resamples=RESAMPLES, gallery=False, plots=False
        ).markdown_text
    )


def test_paired_differences_and_their_absence_without_shared_seeds(
    tmp_path: Path, two_model_report, run_builder, card_factory
) -> None:
    _run, paths = two_model_report
    comparisons = json.loads(paths.json.read_text(encoding="utf-8"))["comparisons"]
    subject = next(c for c in comparisons if c["metric"] == "subject_consistency")
    assert (subject["a"], subject["b"]) == ("cogvideox-tiny", "repvideo-tiny")
    assert subject["difference"] == pytest.approx(-5.0, abs=1e-6)
    assert subject["ci_low"] == pytest.approx(-5.0, abs=1e-6) and subject[
        "ci_high"
    ] == pytest.approx(-5.0, abs=1e-6)
    assert subject["exact"] and subject["p_value"] == pytest.approx(
        2 / 16
    )  # 4 prompts, all the same sign
    assert subject["n_prompts"] == 4
    assert "Paired differences" in paths.markdown_text
    a = run_builder(tmp_path / "a", [card_factory("cogvideox-tiny")], score=score)
    b = run_builder(
        tmp_path / "b",
        [card_factory("repvideo-tiny", repvideo=REPVIDEO)],
        score=score,
        seed_offset=7,
    )
    unpaired = write_reports(
        [a, b], tmp_path / "unpaired", n_resamples=RESAMPLES, gallery=False, plots=False
    )
    assert json.loads(unpaired.json.read_text(encoding="utf-8"))["comparisons"] == []


def test_reference_rows_never_change_measured_numbers(tmp_path: Path, two_model_report) -> None:
    run, with_reference = two_model_report
    without = write_reports(
        [run],
        tmp_path / "plain",
        n_resamples=RESAMPLES,
        gallery=False,
        plots=False,
        reference=False,
    )
    doc_with = json.loads(with_reference.json.read_text(encoding="utf-8"))
    doc_without = json.loads(without.json.read_text(encoding="utf-8"))
    assert (
        doc_with["rows"] == doc_without["rows"]
        and doc_with["comparisons"] == doc_without["comparisons"]
    )
    assert doc_without["reported"] == [] and len(doc_with["reported"]) == 13


def test_reports_are_reproducible_and_seed_dependent(tmp_path: Path, two_model_report) -> None:
    run, first = two_model_report
    again = write_reports(
        [run], tmp_path / "again", n_resamples=RESAMPLES, gallery=False, plots=False
    )
    other = write_reports(
        [run], tmp_path / "other", n_resamples=RESAMPLES, gallery=False, plots=False, seed=1
    )
    assert again.json.read_text(encoding="utf-8") == first.json.read_text(encoding="utf-8")
    assert again.csv.read_bytes() == first.csv.read_bytes()
    assert other.json.read_text(encoding="utf-8") != first.json.read_text(encoding="utf-8")


def test_settings_that_differ_are_flagged(tmp_path: Path, run_builder, card_factory) -> None:
    run = run_builder(tmp_path / "run", [card_factory("a"), card_factory("b", fps=16)])
    paths = write_reports(
        [run], tmp_path / "report", n_resamples=RESAMPLES, gallery=False, plots=False
    )
    assert "Rows differ in fps" in paths.markdown_text
    assert "Rows differ in frames" not in paths.markdown_text


def test_full_sixteen_dimensions_get_quality_semantic_total(
    tmp_path: Path, run_builder, card_factory
) -> None:
    # VBench-like layout: each prompt carries a few dimensions, so strata differ.
    dims_of = lambda p: ALL_DIMENSIONS[(p * 3) % 16 : (p * 3) % 16 + 4] or ALL_DIMENSIONS[:4]  # noqa: E731
    full = run_builder(
        tmp_path / "full",
        [card_factory("cogvideox-tiny"), card_factory("repvideo-tiny", repvideo=REPVIDEO)],
        prompts=[f"prompt {i}" for i in range(24)],
        samples=1,
        score=lambda m, p, s, d: score(m, p % 8, s, d) - 0.2,
        prompt_dimensions=lambda p: ALL_DIMENSIONS if p < 2 else dims_of(p),
        weights_id="vbench",
    )
    paths = write_reports(
        [full],
        tmp_path / "report",
        n_resamples=RESAMPLES,
        gallery=False,
        plots=False,
        reference=False,
    )
    document = json.loads(paths.json.read_text(encoding="utf-8"))
    row = document["rows"][0]
    raw = {d: row["scores"][d]["value"] / 100 for d in ALL_DIMENSIONS}
    expected = summary_scores(raw)
    assert expected is not None
    for name in ("quality_score", "semantic_score", "total_score"):
        cell = row["summary"][name]
        assert cell["value"] == pytest.approx(100 * expected[name], abs=1e-9)
        assert cell["ci_low"] < cell["value"] < cell["ci_high"]
    by_metric = {c["metric"]: c for c in document["comparisons"]}
    assert by_metric["total_score"]["n_prompts"] == 24 and by_metric["scene"]["n_prompts"] < 24
    metrics = set(by_metric)
    assert {"total_score", "quality_score", "semantic_score"} <= metrics
    assert "| Total |" in paths.markdown_text.replace(
        "| Row | Kind | Videos | Total |", "| Total |"
    )
    # One dimension short: no summary for that row, and a note says why.
    short = run_builder(
        tmp_path / "short",
        [card_factory("partial")],
        prompts=["p"],
        samples=1,
        dimensions=ALL_DIMENSIONS[:15],
    )
    partial = write_reports(
        [short],
        tmp_path / "partial",
        n_resamples=RESAMPLES,
        gallery=False,
        plots=False,
        reference=False,
    )
    doc = json.loads(partial.json.read_text(encoding="utf-8"))
    assert doc["rows"][0]["summary"] == {}
    assert any("all 16" in note for note in doc["notes"])
