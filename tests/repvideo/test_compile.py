"""torch.compile: the RepVideo block loop traces as one graph, and compiled equals eager."""

from __future__ import annotations

import copy

import pytest
import torch

from repvideo_eval.repvideo import apply_repvideo, configure_repvideo, set_gates
from repvideo_eval.repvideo.gates import freeze_mixing_plan
from repvideo_eval.repvideo.tiny_configs import TINY_LAYERS, build_tiny_transformer, tiny_inputs


def _repvideo(gates: torch.Tensor) -> torch.nn.Module:
    model = apply_repvideo(build_tiny_transformer("cogvideox-2b"), cache_window=6)
    set_gates(model, gates)
    freeze_mixing_plan(model)
    return model


def _gates() -> torch.Tensor:
    gates = 0.5 + 0.3 * (torch.rand(TINY_LAYERS, generator=torch.Generator().manual_seed(3)) - 0.5)
    gates[4] = 0.0  # a zero gate the frozen plan skips, as the eager loop does
    return gates


@pytest.mark.parametrize("gates_mode", ["learned", pytest.param("off", marks=pytest.mark.slow)])
def test_forward_has_no_graph_break(gates_mode: str) -> None:
    model = _repvideo(_gates())
    configure_repvideo(model, gates=gates_mode)
    inputs = tiny_inputs("cogvideox-2b")
    torch._dynamo.reset()
    with torch.no_grad():
        explanation = torch._dynamo.explain(model)(**inputs)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1


@pytest.mark.slow
def test_without_a_frozen_plan_reading_the_gates_breaks_the_graph() -> None:
    """Why freeze_mixing_plan exists: the eager plan reads gate values on the host."""
    model = _repvideo(_gates())
    model.repvideo_frozen_plan = None
    torch._dynamo.reset()
    with torch.no_grad():
        explanation = torch._dynamo.explain(model)(**tiny_inputs("cogvideox-2b"))
    assert explanation.graph_break_count >= 1


def test_setting_gates_refreshes_a_frozen_plan() -> None:
    model = _repvideo(_gates())
    assert model.repvideo_frozen_plan[4] is False
    set_gates(model, torch.full((TINY_LAYERS,), 0.5))
    assert model.repvideo_frozen_plan[4] is True


@pytest.mark.slow  # inductor's C++ compile: minutes on 2 busy cores
def test_compiled_equals_eager_on_the_tiny_twin() -> None:
    eager = _repvideo(_gates())
    compiled = copy.deepcopy(eager)
    compiled.compile(dynamic=False)
    inputs = tiny_inputs("cogvideox-2b")
    torch._dynamo.reset()
    with torch.no_grad():
        expected = eager(**inputs).sample
        actual = compiled(**inputs).sample
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)
