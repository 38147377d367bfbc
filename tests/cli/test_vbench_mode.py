"""`--vbench-mode auto` follows VBench's FAQ: VBench-Long for videos of 5 s or more."""

from __future__ import annotations

import pytest

from repvideo_eval import registry
from repvideo_eval.cli.run import resolve_vbench_mode
from repvideo_eval.errors import UserError


def test_auto_mode_from_video_length() -> None:
    real = (
        registry.load_card("cogvideox-2b"),
        registry.load_card("repvideo-2b"),
    )  # 49 frames at 8 fps = 6.1 s
    tiny = (registry.load_card("cogvideox-tiny"),)  # 9 frames at 8 fps
    assert resolve_vbench_mode("auto", real) == "long"
    assert resolve_vbench_mode("auto", tiny) == "standard"
    assert resolve_vbench_mode("standard", real) == "standard"
    with pytest.raises(UserError, match="different lengths"):
        resolve_vbench_mode("auto", real + tiny)


def test_long_modes_choose_the_consistency_variant(tmp_path) -> None:
    """ "long" is evaluate_long.sh (--dev_flag: slow-fast); "long-inclip" is vbench-long without it."""
    from repvideo_eval.scoring.long_mode import VBENCH_MODES, is_long_mode, long_consistency
    from repvideo_eval.stages import ScoringWorker

    assert VBENCH_MODES == ("standard", "long", "long-inclip")
    assert [is_long_mode(m) for m in VBENCH_MODES] == [False, True, True]
    for mode, variant in (("long", "slow-fast"), ("long-inclip", "inclip")):
        assert long_consistency(mode) == variant
        worker = ScoringWorker(
            ["temporal_flickering"],
            "cpu",
            "tiny-random",
            None,
            vbench_mode=mode,
            clip_dir=str(tmp_path / mode),
        )
        assert worker.long_mode and worker.session.consistency == variant
    assert not ScoringWorker(
        ["temporal_flickering"], "cpu", "tiny-random", None, vbench_mode="standard"
    ).long_mode


def test_cli_accepts_the_long_inclip_mode() -> None:
    import argparse

    from repvideo_eval.cli.run import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert (
        parser.parse_args(["--model", "tiny", "--vbench-mode", "long-inclip"]).vbench_mode
        == "long-inclip"
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--model", "tiny", "--vbench-mode", "longest"])
