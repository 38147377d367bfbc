"""The convert-repvideo CLI module: arguments, output, and one-line user errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
from diffusers import CogVideoXTransformer3DModel
from safetensors import safe_open

from repvideo.sat_fixture import (
    TINY_OVERRIDES,
    TINY_SAT_CONFIG,
    sat_state_from_diffusers,
    write_sat_checkpoint,
)
from repvideo_eval.cli import convert_repvideo
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import load_repvideo


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    convert_repvideo.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_converts_with_config_and_dtype(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    torch.manual_seed(0)
    model = CogVideoXTransformer3DModel(**TINY_SAT_CONFIG)
    write_sat_checkpoint(tmp_path / "sat", sat_state_from_diffusers(model, torch.full((13,), 0.5)))
    (tmp_path / "cfg.json").write_text(json.dumps(TINY_OVERRIDES))
    args = _parse(
        [
            str(tmp_path / "sat"),
            str(tmp_path / "out"),
            "--config",
            str(tmp_path / "cfg.json"),
            "--dtype",
            "bfloat16",
        ]
    )
    assert convert_repvideo.execute(args) == 0
    out = capsys.readouterr().out
    assert "iteration 1000" in out and "[0, 1, 7]" in out
    with safe_open(
        tmp_path / "out" / "diffusion_pytorch_model.safetensors", framework="pt"
    ) as checkpoint:
        assert checkpoint.get_tensor("proj_out.weight").dtype == torch.bfloat16
    loaded = load_repvideo(tmp_path / "out", torch_dtype=torch.bfloat16)
    assert (
        loaded.proj_out.weight.dtype == torch.bfloat16
        and loaded.repvideo_gates.dtype == torch.bfloat16
    )


def test_cli_user_errors(tmp_path: Path) -> None:
    assert (
        convert_repvideo.__doc__.strip().splitlines()[0].startswith("Convert the official RepVideo")
    )
    with pytest.raises(UserError, match="cache window"):
        convert_repvideo.execute(
            _parse([str(tmp_path), str(tmp_path / "out"), "--cache-window", "0"])
        )
    with pytest.raises(UserError, match="does not exist"):
        convert_repvideo.execute(_parse([str(tmp_path / "missing"), str(tmp_path / "out")]))
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="JSON object"):
        convert_repvideo.execute(
            _parse([str(tmp_path), str(tmp_path / "out"), "--config", str(tmp_path / "bad.json")])
        )
