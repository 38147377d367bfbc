"""`run_eval.py report`: rebuilds reports from run folders; user mistakes are one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from repvideo_eval.cli import report as report_command
from repvideo_eval.errors import UserError

REPVIDEO = {"cache_window": 6, "gates": "learned", "gate_value": None}


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="run_eval.py report")
    report_command.add_arguments(parser)
    return report_command.execute(parser.parse_args(list(argv)))


def test_single_run_defaults_to_its_report_folder(
    tmp_path: Path, run_builder, card_factory, capsys
) -> None:
    run = run_builder(
        tmp_path / "run",
        [card_factory("cogvideox-tiny"), card_factory("repvideo-tiny", repvideo=REPVIDEO)],
    )
    assert run_cli(str(run), "--resamples", "200", "--no-plots", "--no-gallery") == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("# Leaderboard") and "| cogvideox-tiny |" in captured.out
    assert {p.name for p in (run / "report").iterdir()} == {
        "leaderboard.csv",
        "leaderboard.md",
        "leaderboard.json",
    }
    assert f"wrote {run / 'report' / 'leaderboard.csv'}" in captured.err
    assert not [
        p for p in (run / "report").iterdir() if p.name.startswith(".")
    ]  # no temp files left


def test_merges_runs_and_writes_the_ablation_report(
    tmp_path: Path, run_builder, card_factory, capsys
) -> None:
    base = run_builder(tmp_path / "a", [card_factory("repvideo-tiny", repvideo=REPVIDEO)])
    variant = run_builder(
        tmp_path / "b",
        [card_factory("repvideo-tiny-cw2", repvideo={**REPVIDEO, "cache_window": 2})],
    )
    out = tmp_path / "merged"
    assert (
        run_cli(
            str(base),
            str(variant),
            "--output-dir",
            str(out),
            "--resamples",
            "200",
            "--ablation-baseline",
            "repvideo-tiny",
            "--no-gallery",
            "--no-plots",
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert (
        "| repvideo-tiny |" in printed
        and "| repvideo-tiny-cw2 |" in printed
        and "# RepVideo ablation" in printed
    )
    assert (out / "ablation.csv").is_file() and (out / "leaderboard.json").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resamples", "5"], "too few"),
        (["--ablation-baseline", "nope"], "not in the given runs"),
    ],
)
def test_bad_flags_are_user_errors(
    tmp_path: Path, run_builder, card_factory, extra, message
) -> None:
    run = run_builder(tmp_path / "run", [card_factory("m")])
    with pytest.raises(UserError, match=message):
        run_cli(str(run), "--no-plots", "--no-gallery", "--resamples", "200", *extra)


def test_several_runs_need_an_output_dir(tmp_path: Path, run_builder, card_factory) -> None:
    a = run_builder(tmp_path / "a", [card_factory("m")])
    b = run_builder(tmp_path / "b", [card_factory("n")])
    with pytest.raises(UserError, match="--output-dir"):
        run_cli(str(a), str(b))


def test_main_prints_one_line_and_exits_2(tmp_path: Path, capsys) -> None:
    from repvideo_eval.cli.main import main

    assert main(["report", str(tmp_path / "missing-run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: run folder") and "\n" not in err and "Traceback" not in err


def test_output_dir_that_is_a_file(tmp_path: Path, run_builder, card_factory) -> None:
    run = run_builder(tmp_path / "run", [card_factory("m")])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="is a file"):
        run_cli(str(run), "--output-dir", str(blocker), "--resamples", "200")
