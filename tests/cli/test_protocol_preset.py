"""`--protocol`: the public leaderboard's protocol as one word; what `--model repvideo --suite
vbench` runs by default; conflicting flags are one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from repvideo_eval.cli import run as run_command
from repvideo_eval.cli.main import main
from repvideo_eval.cli.protocol_preset import (
    LEADERBOARD_FLAGS,
    HarnessDefault,
    apply_protocol,
)
from repvideo_eval.errors import UserError
from repvideo_eval.reporting.reference import load_reference_rows


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    run_command.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_default_for_the_repvideo_pair_on_vbench_is_the_leaderboards_protocol(capsys) -> None:
    """`python run_eval.py --model repvideo --suite vbench`: VBench-Long, GPT-enhanced prompts,
    official scorers, VBench's 5 samples per prompt (25 for temporal_flickering)."""
    args = parse("--model", "repvideo", "--suite", "vbench")
    spec = run_command.build_spec(args)
    assert spec.vbench_mode == "long" and spec.scoring_weights == "official"
    assert args.prompt_set == "gpt-enhanced" and spec.prompt_set == "gpt-enhanced"
    assert spec.suite.name == "vbench" and len(spec.suite.prompts) == 946
    assert spec.suite.samples_per_prompt == 5
    assert max(p.samples or 0 for p in spec.suite.prompts) == 25
    assert "protocol vbench-leaderboard (cogvideox): --suite vbench --vbench-mode long" in (
        capsys.readouterr().out
    )


def test_explicit_preset_picks_the_suite_and_protocol_none_keeps_the_harness_defaults() -> None:
    args = parse("--model", "repvideo", "--protocol", "vbench-leaderboard", "--dimensions", "scene")
    spec = run_command.build_spec(args)
    assert spec.suite.name == "vbench" and spec.dimensions == ("scene",)
    assert spec.prompt_set == "gpt-enhanced" and spec.vbench_mode == "long"
    plain = parse("--model", "repvideo", "--suite", "vbench/scene", "--protocol", "none")
    assert run_command.build_spec(plain).prompt_set == "standard"


def test_auto_lets_explicit_flags_win_and_leaves_tiny_twins_alone() -> None:
    args = parse("--model", "repvideo", "--suite", "vbench/scene", "--vbench-mode", "standard")
    assert run_command.build_spec(args).vbench_mode == "standard"
    assert args.prompt_set == "gpt-enhanced"
    tiny = parse("--model", "tiny", "--suite", "vbench/subject_consistency")
    spec = run_command.build_spec(tiny)
    assert spec.scoring_weights == "tiny-random" and spec.vbench_mode == "standard"
    assert spec.prompt_set == "standard"
    smoke = parse("--model", "repvideo")  # not a VBench suite: nothing applied
    assert isinstance(smoke.suite, HarnessDefault)  # told apart from an explicit --suite smoke
    assert run_command.build_spec(smoke).suite.name == "smoke"
    assert type(smoke.suite) is str  # the mark does not outlive the preset


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--vbench-mode", "standard"],
            "sets --vbench-mode long for cogvideox, but --vbench-mode standard",
        ),
        (
            ["--suite", "smoke"],
            "sets --suite vbench (or vbench/<dimension>) for cogvideox, but --suite smoke",
        ),
        (["--suite", "vbench-mini"], "but --suite vbench-mini was given"),
        (["--samples-per-prompt", "5"], "--samples-per-prompt from the suite"),
        (["--scoring-weights", "tiny-random"], "but --scoring-weights tiny-random was given"),
        (["--detector", "owlv2"], "but --detector owlv2 was given"),
    ],
)
def test_conflicting_flags_are_one_line_errors(
    tmp_path: Path, capsys, flags: list[str], message: str
) -> None:
    out = tmp_path / "run"
    argv = ["--model", "repvideo", "--protocol", "vbench-leaderboard", "--output-dir", str(out)]
    assert main([*argv, *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()


def test_agreeing_flags_are_accepted() -> None:
    args = parse(
        "--model", "repvideo", "--protocol", "vbench-leaderboard", "--suite", "vbench/color",
        "--vbench-mode", "long", "--scoring-weights", "official", "--detector", "grit-torch",
    )  # fmt: skip
    spec = run_command.build_spec(args)
    assert spec.detector == "grit-torch" and spec.vbench_mode == "long"


def test_ablate_takes_the_preset(tmp_path: Path, capsys) -> None:
    grid = Path(__file__).resolve().parents[2] / "models" / "ablations"
    grid_file = sorted(grid.glob("*.yaml"))[0]
    code = main(
        ["ablate", "--model", "repvideo-2b", "--grid", str(grid_file), "--protocol",
         "vbench-leaderboard", "--suite", "smoke", "--output-dir", str(tmp_path / "a")]
    )  # fmt: skip
    assert code == 2 and "--protocol vbench-leaderboard sets --suite" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_family_the_sources_do_not_cover_is_refused() -> None:
    args = SimpleNamespace(protocol="vbench-leaderboard", suite=HarnessDefault("smoke"))
    card = SimpleNamespace(family="ltx", is_tiny=False)
    with pytest.raises(UserError, match="no published protocol for family ltx"):
        apply_protocol(args, [card])  # type: ignore[arg-type]
    auto = SimpleNamespace(protocol="auto", suite="vbench")
    assert apply_protocol(auto, [card]) is None  # type: ignore[arg-type]


def test_preset_agrees_with_the_published_rows_protocol() -> None:
    """The preset and results/reference/published_protocols.csv state the same facts."""
    rows = {row.row_id: row for row in load_reference_rows()}
    for row_id in ("vbench-leaderboard:CogVideoX-2B", "vbench-leaderboard:CogVideoX-5B"):
        protocol = rows[row_id].protocol.as_dict()
        for flag, value in LEADERBOARD_FLAGS["cogvideox"].items():
            assert protocol[flag] == value, (row_id, flag)
        assert protocol["samples_per_prompt"] == "5"
