"""Fidelity: RepVideo's running-sum two-stream loop equals the official computation.

References (tests/repvideo/reference_loops.py) run inside the stock diffusers forward, so the
code under test contributes nothing to the expected values.
"""

from __future__ import annotations

import copy

import pytest
import torch

from repvideo.reference_loops import (
    OfficialConcatLoop,
    PerStreamListLoop,
    WanListLoop,
    relative_error,
    stock_with_loop,
)
from repvideo_eval.repvideo import apply_repvideo, inactive_layers, set_gates
from repvideo_eval.repvideo.tiny_configs import TINY_LAYERS, build_tiny_transformer, tiny_inputs


def _out(model: torch.nn.Module, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs).sample


def _random_gates(seed: int) -> torch.Tensor:
    return torch.rand(TINY_LAYERS, generator=torch.Generator().manual_seed(seed)) * 1.2 - 0.1


@pytest.mark.parametrize("window", [1, 2, 3, 6, TINY_LAYERS + 5])
def test_matches_official_concatenated_loop(
    tiny_2b: torch.nn.Module, inputs_2b: dict, window: int
) -> None:
    gates = _random_gates(window)
    model = apply_repvideo(copy.deepcopy(tiny_2b), cache_window=window)
    set_gates(model, gates)
    reference = stock_with_loop(tiny_2b, OfficialConcatLoop, gates, window)
    expected = _out(reference, inputs_2b)
    assert relative_error(_out(model, inputs_2b), expected) <= 1e-6
    # and the references are not trivially equal to the stock model
    assert relative_error(_out(tiny_2b, inputs_2b), expected) > 1e-3 or window == 1


@pytest.mark.parametrize("name", ["cogvideox-5b", "cogvideox-1.5"])
def test_rotary_families_match_official_loop(name: str) -> None:
    stock = build_tiny_transformer(name, seed=5)
    inputs = tiny_inputs(name, seed=6)
    gates = _random_gates(7)
    model = apply_repvideo(copy.deepcopy(stock), cache_window=6)
    set_gates(model, gates)
    expected = _out(stock_with_loop(stock, OfficialConcatLoop, gates, 6), inputs)
    assert relative_error(_out(model, inputs), expected) <= 1e-6


def test_random_gates_match_per_stream_list_loop(tiny_2b: torch.nn.Module, inputs_2b: dict) -> None:
    gates = _random_gates(11)
    model = apply_repvideo(copy.deepcopy(tiny_2b), cache_window=4)
    set_gates(model, gates)
    expected = _out(stock_with_loop(tiny_2b, PerStreamListLoop, gates, 4), inputs_2b)
    assert relative_error(_out(model, inputs_2b), expected) <= 1e-6


@pytest.mark.parametrize("window", [3, 6])
def test_wan_matches_single_stream_list_loop(window: int) -> None:
    stock = build_tiny_transformer("wan-2.1", seed=8)
    inputs = tiny_inputs("wan-2.1", seed=9)
    gates = torch.full(
        (TINY_LAYERS,), 0.5
    )  # training-free setting: no Wan RepVideo checkpoint exists
    model = apply_repvideo(copy.deepcopy(stock), cache_window=window)
    set_gates(model, gates)
    expected = _out(stock_with_loop(stock, WanListLoop, gates, window), inputs)
    assert relative_error(_out(model, inputs), expected) <= 1e-6
    assert relative_error(_out(stock, inputs), expected) > 1e-3


def _loss_and_grads(
    model: torch.nn.Module, inputs: dict
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    out = model(**inputs).sample
    (out.square().mean()).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return out.detach(), grads


@pytest.mark.parametrize("name", ["cogvideox-2b", "wan-2.1"])
def test_gradient_checkpointing_gives_same_outputs_and_grads(name: str) -> None:
    inputs_2b = tiny_inputs(name, seed=12)
    model = apply_repvideo(build_tiny_transformer(name, seed=12), cache_window=6)
    set_gates(model, _random_gates(13))
    model.train()
    out_plain, grads_plain = _loss_and_grads(model, inputs_2b)
    model.enable_gradient_checkpointing()
    assert model.gradient_checkpointing
    calls = {"n": 0}
    original = model._gradient_checkpointing_func

    def counting(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    model._gradient_checkpointing_func = counting
    out_ckpt, grads_ckpt = _loss_and_grads(model, inputs_2b)
    assert calls["n"] == TINY_LAYERS  # the checkpointed path really ran
    assert torch.allclose(out_ckpt, out_plain, rtol=0, atol=1e-6)
    assert set(grads_ckpt) == set(grads_plain)
    for name, grad in grads_plain.items():
        assert torch.allclose(grads_ckpt[name], grad, rtol=1e-5, atol=1e-7), name
    gate_grad = grads_plain["repvideo_gates"]
    inactive = inactive_layers(TINY_LAYERS, 6)
    assert torch.all(gate_grad[inactive] == 0)  # the official no-op blocks never get a gradient
    active = [i for i in range(TINY_LAYERS) if i not in inactive]
    assert torch.all(gate_grad[active] != 0)


def test_gate_gradient_matches_official_loop(tiny_2b: torch.nn.Module, inputs_2b: dict) -> None:
    gates = _random_gates(17)
    model = apply_repvideo(copy.deepcopy(tiny_2b), cache_window=6)
    set_gates(model, gates)
    _, grads = _loss_and_grads(model, inputs_2b)

    reference = stock_with_loop(tiny_2b, OfficialConcatLoop, gates, 6)
    loop = reference.transformer_blocks[0]
    loop.gates = torch.nn.Parameter(gates.clone())
    out = reference(**inputs_2b).sample
    out.square().mean().backward()
    assert relative_error(grads["repvideo_gates"], loop.gates.grad) <= 1e-5


def test_zero_gates_in_training_still_learn(tiny_2b: torch.nn.Module, inputs_2b: dict) -> None:
    model = apply_repvideo(copy.deepcopy(tiny_2b), gate_init=0.0)
    out, grads = _loss_and_grads(model, inputs_2b)
    assert torch.allclose(out, _out(tiny_2b, inputs_2b), rtol=0, atol=1e-6)
    active = [i for i in range(TINY_LAYERS) if i not in inactive_layers(TINY_LAYERS, 6)]
    assert torch.all(grads["repvideo_gates"][active] != 0)
