"""The shipped ablation grid applies to every family's transformer, and Wan 2.2 A14B's two
transformers are both wrapped: nothing in the grid, the settings or the loop assumes CogVideoX."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from repvideo_eval.ablation_grid import load_grid
from repvideo_eval.config import RepVideoSettings
from repvideo_eval.generation.pipelines import _apply_repvideo_settings
from repvideo_eval.repvideo import apply_repvideo, get_gates, is_repvideo, pipeline_transformers
from repvideo_eval.repvideo.tiny_configs import build_tiny_transformer, tiny_inputs

GRID = Path(__file__).resolve().parents[2] / "models" / "ablations" / "cache_window_and_gates.yaml"


def _out(model: torch.nn.Module, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs).sample


@pytest.mark.parametrize(
    "name",
    [
        "hunyuanvideo",
        pytest.param("wan-2.2-ti2v", marks=pytest.mark.slow),
        pytest.param("ltx", marks=pytest.mark.slow),
        pytest.param("mochi", marks=pytest.mark.slow),
    ],
)
def test_grid_variants_run_on_the_family(name: str) -> None:
    stock = build_tiny_transformer(name, seed=40)
    inputs = tiny_inputs(name, seed=41)
    baseline = _out(stock, inputs)
    outputs: dict[str, torch.Tensor] = {}
    for override in load_grid(GRID):
        settings = RepVideoSettings(
            cache_window=int(override["cache_window"] or 6),
            gates=override["gates"],
            gate_value=override.get("gate_value"),
        )
        card = SimpleNamespace(name=f"tiny-{name}", repvideo=settings)
        model = copy.deepcopy(stock)
        num_gates = len(apply_repvideo(model).repvideo_gates)
        learned = 0.5 + 0.3 * (
            torch.rand(num_gates, generator=torch.Generator().manual_seed(3)) - 0.5
        )
        _apply_repvideo_settings(model, card, learned)
        key = f"{settings.gates}-w{settings.cache_window}"
        outputs[key] = _out(model, inputs)
        if settings.gates == "fixed":
            assert get_gates(model) == pytest.approx([override["gate_value"]] * len(learned))
        if settings.gates == "learned":
            assert torch.allclose(model.repvideo_gates.detach(), learned)
    assert torch.equal(outputs["off-w6"], baseline)  # gates off: the stock transformer
    mixed = [k for k in outputs if not k.startswith("off")]
    assert len(mixed) == 10  # 5 windows x (learned, fixed 0.5)
    assert all(not torch.allclose(outputs[k], baseline, atol=1e-4) for k in mixed)
    # the window matters: different windows, different outputs
    assert not torch.allclose(outputs["fixed-w2"], outputs["fixed-w6"], atol=1e-5)


def test_both_wan_a14b_transformers_are_wrapped() -> None:
    pipe = SimpleNamespace(
        transformer=build_tiny_transformer("wan-2.1", seed=1),
        transformer_2=build_tiny_transformer("wan-2.1", seed=2),
        vae=object(),
    )
    found = pipeline_transformers(pipe)
    assert found == [pipe.transformer, pipe.transformer_2]
    for transformer in found:
        apply_repvideo(transformer, cache_window=4, gate_init=0.3)
    assert is_repvideo(pipe.transformer) and is_repvideo(pipe.transformer_2)
    single = SimpleNamespace(transformer=pipe.transformer, transformer_2=None)
    assert pipeline_transformers(single) == [pipe.transformer]
