"""`report RUN --compare-to ROW`: the tiny twins against the published CogVideoX-2B row and
against another run's row; a bad ROW is one line, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repvideo_eval.cli.main import main
from repvideo_eval.reporting.reference import load_reference_rows
from tests.reporting.twins import CENTRES, LEADERBOARD_RUN_META, twin_run

COGVIDEOX_2B = "vbench-leaderboard:CogVideoX-2B"


def report(*argv: str) -> int:
    return main(["report", *argv, "--resamples", "200", "--no-plots", "--no-gallery"])


@pytest.fixture
def twins(tmp_path: Path) -> Path:
    return twin_run(tmp_path / "twins")


def test_tiny_twins_against_the_published_cogvideox_2b_row(twins: Path, capsys) -> None:
    assert report(str(twins), "--compare-to", COGVIDEOX_2B) == 0
    out = twins / "report"
    document = json.loads((out / "compare_vbench-leaderboard-CogVideoX-2B.json").read_text())
    markdown = (out / "compare_vbench-leaderboard-CogVideoX-2B.md").read_text()
    assert (out / "leaderboard.md").is_file()
    assert [c["measured"] for c in document["comparisons"]] == ["cogvideox-tiny", "repvideo-tiny"]
    cog = document["comparisons"][0]
    assert cog["target"]["row_id"] == COGVIDEOX_2B and cog["random_weights"]
    assert cog["protocol_match"] == "differs"
    diffs = {d["field"]: d for d in cog["protocol_differences"]}
    # What the twins recorded against what VBench's maintainers say about the published row.
    assert diffs["model_weights"]["measured"] == "tiny:cogvideox (tiny)"
    assert "SAT" in diffs["model_weights"]["other"] and diffs["model_weights"]["kind"] == "model"
    assert (diffs["frames_hw"]["measured"], diffs["frames_hw"]["other"]) == (
        "9x64x64",
        "49x480x720",
    )
    assert (diffs["prompt_set"]["measured"], diffs["prompt_set"]["other"]) == (
        "standard",
        "gpt-enhanced",
    )
    assert (diffs["vbench_mode"]["measured"], diffs["vbench_mode"]["other"]) == ("standard", "long")
    assert diffs["scoring_weights"]["other"] == "official" and diffs["scoring_weights"]["stated"]
    assert not diffs["sampler"]["stated"]  # the source lists no sampler settings
    assert "fps" not in diffs and "samples_per_prompt" not in diffs  # 8 and 5 on both sides
    # Per dimension: measured value with its interval, the published value, the gap, inside or not.
    published = next(r for r in load_reference_rows() if r.row_id == COGVIDEOX_2B).values
    metrics = {m["metric"]: m for m in cog["metrics"]}
    assert set(metrics) == set(CENTRES)
    for name, metric in metrics.items():
        assert metric["other"] == published[name]
        assert metric["difference"] == pytest.approx(metric["measured"] - published[name])
        assert metric["ci_low"] <= metric["measured"] <= metric["ci_high"]
        assert metric["measured"] == pytest.approx(100 * CENTRES[name])  # percent, like the CSV
        inside = metric["ci_low"] <= published[name] <= metric["ci_high"]
        assert metric["other_inside_ci"] is inside
    assert metrics["subject_consistency"]["other_inside_ci"] is True  # centred on 96.78
    assert metrics["motion_smoothness"]["other_inside_ci"] is False  # 50 vs 97.73
    lines = {line.split(" | ")[0]: line for line in markdown.splitlines() if line.startswith("| ")}
    assert lines["| Subject Consistency"].startswith("| Subject Consistency | 96.78 [")
    assert lines["| Subject Consistency"].endswith("| 96.78 | +0.00 | yes |")
    assert lines["| Motion Smoothness"].startswith("| Motion Smoothness | 50.00 [")
    assert lines["| Motion Smoothness"].endswith("| 97.73 | -47.73 | no |")
    assert "| prompt set | evaluation | standard | gpt-enhanced | yes |" in markdown
    # The paragraph for an issue is printed and saved.
    printed = capsys.readouterr().out
    assert cog["paragraph"] in printed and cog["paragraph"] in markdown
    assert (
        "evaluation protocols differ in VBench mode (standard vs long); prompt set (standard vs gpt-enhanced)"
        in cog["paragraph"]
    )
    assert (
        "The models differ in model weights (tiny:cogvideox (tiny) vs CogVideoX-2B SAT"
        in cog["paragraph"]
    )
    assert "1 other value(s) lie inside my 95% bootstrap interval" in cog["paragraph"]
    assert "RANDOM weights" in cog["paragraph"]


def test_a_run_with_the_leaderboards_protocol_shares_it(tmp_path: Path) -> None:
    run = twin_run(
        tmp_path / "lb", meta=LEADERBOARD_RUN_META, vbench_mode="long", leaderboard_card=True
    )
    assert report(str(run), "--compare-to", COGVIDEOX_2B.lower()) == 0  # ids are case-blind
    document = json.loads(
        (run / "report" / "compare_vbench-leaderboard-CogVideoX-2B.json").read_text()
    )
    (only,) = document["comparisons"]
    assert only["protocol_match"] == "same"
    assert {d["field"] for d in only["protocol_differences"]} == {
        "model_weights",  # diffusers weights vs the SAT checkpoint: the model, not the protocol
        "sampler",
        "steps",
        "seed_scheme",
        "vbench_version",
    }
    assert "Same evaluation protocol" in only["paragraph"]


def test_against_another_runs_row(tmp_path: Path, twins: Path) -> None:
    other = twin_run(tmp_path / "other", meta={"prompt_set": "gpt-enhanced"})
    assert report(str(twins), "--compare-to", f"{other}::repvideo-tiny") == 0
    document = json.loads((twins / "report" / "compare_repvideo-tiny.json").read_text())
    cog = document["comparisons"][0]
    assert cog["target"]["kind"] == "measured"
    assert [d["field"] for d in cog["protocol_differences"]] == ["prompt_set"]
    metrics = {m["metric"]: m for m in cog["metrics"]}
    assert metrics["motion_smoothness"]["difference"] == pytest.approx(0.0)
    assert metrics["motion_smoothness"]["other_inside_ci"] is True


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("vbench-leaderboard:CogVideoX-9B", "no published row 'vbench-leaderboard:CogVideoX-9B'"),
        ("{twins}", "run folder holds several rows"),
        ("{twins}::nope", "run has no row 'nope'"),
    ],
)
def test_bad_row_is_one_line_exit_2_nothing_written(
    twins: Path, capsys, row: str, message: str
) -> None:
    code = report(str(twins), "--compare-to", row.format(twins=twins))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (twins / "report").exists()
