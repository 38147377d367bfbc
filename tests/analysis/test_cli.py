"""The analyze command end to end on the tiny twins, and its bad-input behaviour."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from repvideo_eval import registry
from repvideo_eval.analysis.records import STATISTICS, read_statistics
from repvideo_eval.cli import analyze
from repvideo_eval.errors import UserError
from repvideo_eval.generation.tiny import TINY_TEXT_LENGTH
from repvideo_eval.repvideo import inactive_layers


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    analyze.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analysis") / "out"
    code = analyze.execute(
        _args(
            "--model",
            "cogvideox-tiny,repvideo-tiny",
            "--prompts",
            "a red car driving down a road",
            "--steps",
            "1,2",
            "--output-dir",
            str(out),
            "--device",
            "cpu",
            "--seed",
            "3",
        )
    )
    assert code == 0
    return out


def test_module_docstring_gives_the_help_line() -> None:
    assert analyze.__doc__ and analyze.__doc__.strip().splitlines()[0].startswith(
        "Representation diagnostics"
    )


def test_statistics_table(run_dir: Path) -> None:
    stats = read_statistics(run_dir / "statistics.csv")
    assert set(stats["model"]) == {"cogvideox-tiny", "repvideo-tiny"}
    sims = stats[stats["statistic"].isin(["adjacent_cosine_token", "adjacent_cosine_pooled"])]
    # 2 models x 2 steps x 13 blocks x 2 tensors x 2 statistics x 2 adjacent pairs (3 latent frames)
    assert len(sims) == 2 * 2 * 13 * 2 * 2 * 2
    assert sims["value"].between(-1.0, 1.0).all() and set(sims["step"]) == {1, 2}
    attention = stats[stats["tensor"] == "attention"]
    totals = attention.groupby(["model", "step", "block", "frame_i"])["value"].sum()
    assert len(totals) == 2 * 2 * 13 * 3
    assert (totals - 1.0).abs().max() < 1e-5  # text mass + frame masses = 1 for every query frame
    gates = stats[stats["tensor"] == "gate"]
    assert set(gates["model"]) == {"repvideo-tiny"}
    active = gates[gates["statistic"] == "mix_active"].set_index("block")["value"]
    assert sorted(int(b) for b in active[active == 0].index) == inactive_layers(13, 6)


def test_attention_maps_and_metadata(run_dir: Path) -> None:
    maps = read_statistics(run_dir / "attention_maps.csv")
    assert (maps["frame_i"] == 1).all()  # default query frame: the middle of 3 latent frames
    sums = maps.groupby(["model", "step", "block"])["value"].sum()
    assert len(sums) == 2 * 2 * 13 and (sums - 1.0).abs().max() < 1e-5
    stats = read_statistics(run_dir / "statistics.csv")
    emitted = set(stats["statistic"]) | set(maps["statistic"])
    assert emitted == set(
        STATISTICS
    )  # every documented statistic is produced, nothing undocumented
    meta = json.loads((run_dir / "analysis.json").read_text(encoding="utf-8"))
    assert meta["seed"] == 3 and meta["steps"] == [1, 2] and "conditional" in meta["cfg_branch"]
    # the tiny twins: the T5 context length, 3 latent frames of (side / 8 / patch 2) tokens a side
    side = registry.load_card("repvideo-tiny").sampler.height // 16
    assert meta["models"]["repvideo-tiny"]["layout"] == {
        "text_len": TINY_TEXT_LENGTH,
        "frames": 3,
        "grid_h": side,
        "grid_w": side,
    }


def test_figures_exist_as_png_and_svg(run_dir: Path) -> None:
    names = {p.name for p in (run_dir / "figures").iterdir()}
    for stem in (
        "similarity_token-matched",
        "similarity_mean-pooled",
        "gates",
        "frame_attention_repvideo-tiny",
        "attention_map_cogvideox-tiny_step1",
    ):
        assert {f"{stem}.png", f"{stem}.svg"} <= names
    assert not any(name.startswith(".partial") for name in names)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--model", "tiny", "--prompts", "a cat", "--steps", "3"), "exceeds"),
        (("--model", "nope", "--prompts", "a cat"), "unknown model"),
        (("--model", "tiny", "--prompts", "missing.txt"), "does not exist"),
        (("--model", "tiny", "--prompts", "a cat", "--chunk-mib", "0"), "chunk-mib"),
        (("--model", "tiny", "--prompts", "a cat", "--seed", "-1"), "seed"),
    ],
)
def test_bad_input_is_a_user_error_and_writes_nothing(
    tmp_path: Path, argv: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "never"
    with pytest.raises(UserError, match=message):
        analyze.execute(_args(*argv, "--output-dir", str(out), "--device", "cpu"))
    assert not out.exists()


def test_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert analyze.resolve_device("auto") == "cpu" and analyze.resolve_device("cpu") == "cpu"
    with pytest.raises(UserError, match="no CUDA GPU"):
        analyze.resolve_device("cuda")
    with pytest.raises(UserError, match="unknown --device"):
        analyze.resolve_device("tpu")
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert analyze.resolve_device("auto") == "cuda" and analyze.resolve_device("cuda:1") == "cuda:1"


def test_bad_query_frame_fails_before_sampling(tmp_path: Path) -> None:
    out = tmp_path / "never"
    with pytest.raises(UserError, match="query-frame 5"):
        analyze.execute(
            _args(
                "--model",
                "cogvideox-tiny",
                "--prompts",
                "a cat",
                "--query-frame",
                "5",
                "--output-dir",
                str(out),
                "--device",
                "cpu",
            )
        )
    assert not out.exists()


def test_output_path_that_is_a_file_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UserError, match="is a file"):
        analyze.build_request(
            _args("--model", "tiny", "--prompts", "a cat", "--output-dir", str(blocker))
        )


def test_through_the_main_dispatcher_a_bad_step_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from repvideo_eval.cli import main as cli_main

    monkeypatch.setitem(cli_main.COMMANDS, "analyze", "repvideo_eval.cli.analyze")
    out = tmp_path / "never"
    code = cli_main.main(
        [
            "analyze",
            "--model",
            "tiny",
            "--prompts",
            "a cat",
            "--steps",
            "5,20",
            "--output-dir",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "step 5 exceeds cogvideox-tiny's 2 sampler steps" in err
    assert not out.exists()
