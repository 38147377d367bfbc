"""apply_repvideo: in-place conversion, gates, exactness when off, gate helpers, dispatch."""

from __future__ import annotations

import copy

import pytest
import torch

from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import (
    apply_repvideo,
    configure_repvideo,
    disable_repvideo,
    enable_repvideo,
    get_gates,
    is_repvideo,
    set_gates,
    set_gates_constant,
)
from repvideo_eval.repvideo.block_loop import mix, mixing_plan
from repvideo_eval.repvideo.tiny_configs import (
    TINY_LAYERS,
    build_tiny_transformer,
    tiny_inputs,
    tiny_names,
)


def _out(model: torch.nn.Module, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs).sample


def test_in_place_conversion_keeps_weights_and_identity(tiny_2b: torch.nn.Module) -> None:
    model = copy.deepcopy(tiny_2b)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    returned = apply_repvideo(model, cache_window=4, gate_init=0.25)
    assert returned is model
    assert is_repvideo(model) and not is_repvideo(tiny_2b)
    assert isinstance(model, type(tiny_2b))
    gates = model.repvideo_gates
    assert isinstance(gates, torch.nn.Parameter) and gates.requires_grad
    assert gates.shape == (TINY_LAYERS,)
    assert get_gates(model) == [0.25] * TINY_LAYERS
    assert model.repvideo_cache_window == 4
    assert [n for n, _ in model.named_parameters()].count("repvideo_gates") == 1
    after = model.state_dict()
    assert set(after) == set(before) | {"repvideo_gates"}
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("name", tiny_names())
def test_gates_zero_and_off_are_bit_exact(name: str) -> None:
    stock = build_tiny_transformer(name, seed=3)
    inputs = tiny_inputs(name, seed=4)
    baseline = _out(stock, inputs)
    model = apply_repvideo(copy.deepcopy(stock))
    default = _out(model, inputs)
    assert not torch.allclose(default, baseline, atol=1e-4), "gates at 0.5 must change the output"
    set_gates_constant(model, 0.0)
    assert torch.equal(_out(model, inputs), baseline)
    set_gates_constant(model, 0.5)
    disable_repvideo(model)
    assert torch.equal(_out(model, inputs), baseline)
    enable_repvideo(model)
    assert torch.equal(_out(model, inputs), default)


def test_zero_gates_are_skipped_outside_training_and_mixed_under_autograd() -> None:
    """0*x + 1*h is not h bit for bit (-0.0 -> +0.0, inf -> NaN), hence the skip of zero gates."""
    hidden = torch.tensor([-0.0, 1.0])
    mixed = mix(hidden, torch.tensor([0.0, float("inf")]), torch.tensor(0.0))
    assert not torch.equal(mixed, hidden)  # what the plain formula does at g == 0
    gates = torch.nn.Parameter(torch.tensor([0.5, 0.5, 0.0, 0.5, 0.0]))
    with torch.no_grad():
        assert mixing_plan(gates, 6) == [False, False, False, True, False]
    assert mixing_plan(gates, 6) == [
        False,
        False,
        True,
        True,
        True,
    ]  # zero gates still get gradients
    frozen = gates.detach()
    assert mixing_plan(frozen, 6) == [False, False, False, True, False]


def test_partial_zero_gates_only_change_active_mixes(
    tiny_2b: torch.nn.Module, inputs_2b: dict
) -> None:
    model = apply_repvideo(copy.deepcopy(tiny_2b), cache_window=6)
    values = [0.0] * TINY_LAYERS
    values[0] = values[1] = values[7] = 0.9  # inactive blocks: changing their gates changes nothing
    set_gates(model, values)
    assert torch.equal(_out(model, inputs_2b), _out(tiny_2b, inputs_2b))
    values[3] = 0.9
    set_gates(model, values)
    assert not torch.allclose(_out(model, inputs_2b), _out(tiny_2b, inputs_2b), atol=1e-4)


def test_configure_repvideo_settings(tiny_2b: torch.nn.Module, inputs_2b: dict) -> None:
    model = apply_repvideo(copy.deepcopy(tiny_2b))
    configure_repvideo(model, gates=0.3, cache_window=3)
    assert get_gates(model) == pytest.approx([0.3] * TINY_LAYERS)
    assert model.repvideo_cache_window == 3 and model.repvideo_enabled
    configure_repvideo(model, gates="off")
    assert not model.repvideo_enabled
    assert get_gates(model) == pytest.approx([0.3] * TINY_LAYERS)  # "off" keeps the values
    configure_repvideo(model, gates="learned")
    assert model.repvideo_enabled
    configure_repvideo(model, gates=[0.1 * i for i in range(TINY_LAYERS)])
    assert get_gates(model) == pytest.approx([0.1 * i for i in range(TINY_LAYERS)])
    with pytest.raises(UserError, match="gate values"):
        set_gates(model, [0.5, 0.5])
    with pytest.raises(UserError, match="gate setting"):
        configure_repvideo(model, gates="sometimes")
    with pytest.raises(UserError, match="cache window"):
        configure_repvideo(model, cache_window=0)


def test_errors_for_wrong_models(tiny_2b: torch.nn.Module) -> None:
    with pytest.raises(UserError, match="cannot wrap"):
        apply_repvideo(torch.nn.Linear(2, 2))
    model = apply_repvideo(copy.deepcopy(tiny_2b))
    with pytest.raises(ValueError, match="already RepVideo"):
        apply_repvideo(model)
    with pytest.raises(TypeError, match="not a RepVideo"):
        set_gates_constant(tiny_2b, 0.5)


def test_gates_follow_dtype_moves(tiny_2b: torch.nn.Module, inputs_2b: dict) -> None:
    model = apply_repvideo(copy.deepcopy(tiny_2b)).to(torch.bfloat16)
    assert model.repvideo_gates.dtype == torch.bfloat16
    inputs = {
        k: (v.to(torch.bfloat16) if torch.is_tensor(v) and v.is_floating_point() else v)
        for k, v in inputs_2b.items()
    }
    out = _out(model, inputs)
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()


def test_wan_save_and_load_round_trip(tmp_path) -> None:
    from diffusers import WanTransformer3DModel

    from repvideo_eval.repvideo import load_repvideo

    model = apply_repvideo(build_tiny_transformer("wan-2.1", seed=30), cache_window=3)
    set_gates(model, [0.05 * i for i in range(TINY_LAYERS)])
    model.save_pretrained(tmp_path / "wan")
    stock = WanTransformer3DModel.from_pretrained(tmp_path / "wan")  # a plain Wan folder
    assert type(stock) is WanTransformer3DModel
    loaded = load_repvideo(tmp_path / "wan")
    assert type(loaded) is type(model) and loaded.repvideo_cache_window == 3
    inputs = tiny_inputs("wan-2.1", seed=31)
    assert torch.equal(_out(loaded, inputs), _out(model, inputs))
    assert not torch.equal(_out(stock, inputs), _out(model, inputs))
