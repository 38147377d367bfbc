"""SAT -> diffusers conversion of the official RepVideo checkpoint layout (tiny dims)."""

from __future__ import annotations

import copy
import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from diffusers import CogVideoXTransformer3DModel

from repvideo.sat_fixture import (
    PREFIX,
    TINY_OVERRIDES,
    TINY_SAT_CONFIG,
    sat_state_from_diffusers,
    write_sat_checkpoint,
)
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import (
    apply_repvideo,
    ensure_converted,
    get_gates,
    load_repvideo,
    set_gates,
)
from repvideo_eval.repvideo.sat_convert import convert_sat_checkpoint
from repvideo_eval.repvideo.tiny_configs import TINY_LAYERS, tiny_inputs


@pytest.fixture(scope="module")
def reference() -> tuple[CogVideoXTransformer3DModel, torch.Tensor]:
    torch.manual_seed(21)
    model = CogVideoXTransformer3DModel(**TINY_SAT_CONFIG).eval()
    gates = torch.rand(TINY_LAYERS, generator=torch.Generator().manual_seed(22))
    return model, gates


@pytest.fixture()
def sat_state(reference) -> dict[str, torch.Tensor]:
    model, gates = reference
    return sat_state_from_diffusers(model, gates)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_converts_loads_strictly_and_matches_direct_tensors(
    tmp_path: Path, reference, sat_state
) -> None:
    model, gates = reference
    write_sat_checkpoint(tmp_path / "sat", sat_state)
    report = convert_sat_checkpoint(
        tmp_path / "sat", tmp_path / "out", config_overrides=TINY_OVERRIDES
    )
    assert report.iteration == "1000" and report.num_tensors == len(sat_state)
    assert report.gates == pytest.approx(gates.tolist())
    assert report.dropped == [PREFIX + "mixins.pos_embed.pos_embedding"]

    # the folder is a stock diffusers folder that loads strictly ...
    stock, info = CogVideoXTransformer3DModel.from_pretrained(
        tmp_path / "out", output_loading_info=True
    )
    assert not any(
        info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")
    )
    expected_sd = model.state_dict()
    assert stock.state_dict().keys() == expected_sd.keys()
    assert all(torch.equal(stock.state_dict()[k], v) for k, v in expected_sd.items())
    assert {k: stock.config[k] for k in TINY_SAT_CONFIG} == {
        k: model.config[k] for k in TINY_SAT_CONFIG
    }

    # ... and load_repvideo restores RepVideo with the learned gates
    loaded = load_repvideo(tmp_path / "out")
    direct = apply_repvideo(copy.deepcopy(model))
    set_gates(direct, gates)
    assert type(loaded) is type(direct)
    assert get_gates(loaded) == pytest.approx(gates.tolist(), abs=0)
    assert loaded.repvideo_cache_window == 6
    inputs = tiny_inputs("cogvideox-2b", seed=23)
    with torch.no_grad():
        assert torch.equal(loaded(**inputs).sample, direct(**inputs).sample)
    assert _leftovers(tmp_path) == []


def test_saved_repvideo_round_trips(tmp_path: Path, reference) -> None:
    model, gates = reference
    rv = apply_repvideo(copy.deepcopy(model), cache_window=4)
    set_gates(rv, gates)
    rv.repvideo_enabled = False
    rv.save_pretrained(tmp_path / "saved")
    assert "repvideo_gates" in dict(rv.named_parameters())  # saving leaves the model intact
    loaded = load_repvideo(tmp_path / "saved", torch_dtype=torch.bfloat16)
    assert loaded.repvideo_cache_window == 4 and not loaded.repvideo_enabled
    assert loaded.repvideo_gates.dtype == torch.bfloat16
    assert get_gates(loaded) == pytest.approx(gates.tolist(), abs=4e-3)


def test_unknown_key_is_named(tmp_path: Path, sat_state) -> None:
    sat_state[PREFIX + "transformer.layers.0.attention.rotary.inv_freq"] = torch.zeros(4)
    write_sat_checkpoint(tmp_path / "sat", sat_state)
    with pytest.raises(
        UserError, match=r"transformer\.layers\.0\.attention\.rotary\.inv_freq.*no conversion rule"
    ):
        convert_sat_checkpoint(tmp_path / "sat", tmp_path / "out", config_overrides=TINY_OVERRIDES)
    assert not (tmp_path / "out").exists() and _leftovers(tmp_path) == []


def test_missing_weight_is_named(tmp_path: Path, sat_state) -> None:
    del sat_state[PREFIX + "mixins.adaln_layer.key_layernorm_list.3.bias"]
    write_sat_checkpoint(tmp_path / "sat", sat_state)
    with pytest.raises(UserError, match=r"transformer_blocks\.3\.attn1\.norm_k\.bias"):
        convert_sat_checkpoint(tmp_path / "sat", tmp_path / "out", config_overrides=TINY_OVERRIDES)
    assert not (tmp_path / "out").exists()


def test_missing_gates_is_named(tmp_path: Path, sat_state) -> None:
    del sat_state[PREFIX + "transformer.learnable_gating"]
    write_sat_checkpoint(tmp_path / "sat", sat_state)
    with pytest.raises(UserError, match="learnable_gating"):
        convert_sat_checkpoint(tmp_path / "sat", tmp_path / "out", config_overrides=TINY_OVERRIDES)


def test_position_table_is_checked(tmp_path: Path, sat_state) -> None:
    sat_state[PREFIX + "mixins.pos_embed.pos_embedding"][0, -1, 0] += 0.01
    write_sat_checkpoint(tmp_path / "sat", sat_state)
    with pytest.raises(UserError, match="pos_embedding.*differs"):
        convert_sat_checkpoint(tmp_path / "sat", tmp_path / "out", config_overrides=TINY_OVERRIDES)
    with pytest.raises(UserError, match="pos_embedding.*shape"):  # wrong sample size for this table
        convert_sat_checkpoint(
            tmp_path / "sat",
            tmp_path / "out2",
            config_overrides={**TINY_OVERRIDES, "sample_frames": 13},
        )


def test_refuses_unsafe_pickles_and_bad_layouts(tmp_path: Path, sat_state) -> None:
    write_sat_checkpoint(tmp_path / "sat", sat_state, extra={"when": datetime.timedelta(days=1)})
    with pytest.raises(UserError, match=r"refuses \(datetime.timedelta\)"):
        convert_sat_checkpoint(tmp_path / "sat", tmp_path / "out", config_overrides=TINY_OVERRIDES)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no 'latest' file"):
        convert_sat_checkpoint(
            tmp_path / "empty", tmp_path / "out", config_overrides=TINY_OVERRIDES
        )
    (tmp_path / "sat" / "latest").write_text("2000")
    with pytest.raises(UserError, match="iteration '2000'"):
        convert_sat_checkpoint(tmp_path / "sat", tmp_path / "out", config_overrides=TINY_OVERRIDES)


def test_ensure_converted_converts_once(tmp_path: Path, sat_state) -> None:
    write_sat_checkpoint(
        tmp_path / "download" / "ckpt" / "RepVideo", sat_state
    )  # a download wrapping the SAT folder
    out = ensure_converted(
        tmp_path / "download", tmp_path / "conv", config_overrides=TINY_OVERRIDES
    )
    stamp = (out / "repvideo.safetensors").stat().st_mtime_ns
    assert ensure_converted(tmp_path / "nowhere", tmp_path / "conv") == out  # no second conversion
    assert (out / "repvideo.safetensors").stat().st_mtime_ns == stamp
    with pytest.raises(UserError, match="already exists"):
        convert_sat_checkpoint(
            tmp_path / "download", tmp_path / "conv", config_overrides=TINY_OVERRIDES
        )
    write_sat_checkpoint(tmp_path / "download" / "other", sat_state)
    with pytest.raises(UserError, match="several SAT checkpoints"):
        convert_sat_checkpoint(
            tmp_path / "download", tmp_path / "conv2", config_overrides=TINY_OVERRIDES
        )


RACER = """
import sys, time
from pathlib import Path
from repvideo.sat_fixture import TINY_OVERRIDES
from repvideo_eval.repvideo import ensure_converted

sat, out, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
(out.parent / f"ready-{me}").touch()
while len(list(out.parent.glob("ready-*"))) < 2:  # start converting together
    time.sleep(0.01)
print(ensure_converted(sat, out, config_overrides=TINY_OVERRIDES))
"""


@pytest.mark.slow
def test_two_processes_converting_at_once_both_get_one_folder(tmp_path: Path, sat_state) -> None:
    write_sat_checkpoint(tmp_path / "sat", sat_state)
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{tests.parent}{os.pathsep}{tests}"}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path / "sat"), str(tmp_path / "conv"), me],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me in ("a", "b")
    ]
    for racer in racers:
        stdout, stderr = racer.communicate(timeout=600)
        assert racer.returncode == 0, stderr[-3000:]
        assert stdout.strip() == str(tmp_path / "conv")
    assert _leftovers(tmp_path) == []  # the losing conversion's folder is gone
    model = load_repvideo(tmp_path / "conv")
    expected = sat_state[PREFIX + "transformer.learnable_gating"]
    assert get_gates(model) == pytest.approx(expected.tolist(), abs=0)
