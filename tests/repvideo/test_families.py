"""Every family's adapter: gates off is the stock forward bit for bit, the cache equals a
reference loop written for that family, gradient checkpointing changes nothing, and the lookup
answers "can this transformer be wrapped" with one line.

References (reference_loops.py) run inside the *stock* diffusers forward, so the adapter's
forward contributes nothing to the expected values.
"""

from __future__ import annotations

import copy
import functools

import pytest
import torch

from repvideo.reference_loops import (
    HunyuanConcatLoop,
    LTX2ListLoop,
    LTXListLoop,
    MochiListLoop,
    OfficialConcatLoop,
    WanListLoop,
    relative_error,
    stock_with_loop,
)
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import apply_repvideo, disable_repvideo, inactive_layers, set_gates
from repvideo_eval.repvideo.adapters import ADAPTERS, adapter_for, can_wrap
from repvideo_eval.repvideo.tiny_configs import (
    TINY_CLASSES,
    TINY_LAYERS,
    build_tiny_transformer,
    tiny_inputs,
    tiny_names,
)

#: tiny transformer -> the reference loop written for its family
REFERENCES = {
    "cogvideox-1.5": OfficialConcatLoop,
    "wan-2.1": WanListLoop,
    "wan-2.2-ti2v": WanListLoop,
    "hunyuanvideo": HunyuanConcatLoop,
    "hunyuanvideo1.5": HunyuanConcatLoop,
    "ltx": LTXListLoop,
    "ltx2": LTX2ListLoop,
    "mochi": MochiListLoop,
}


def _out(model: torch.nn.Module, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs).sample


def _gates(seed: int) -> torch.Tensor:
    """Nonzero gates in (0.1, 0.9): every active block mixes."""
    return torch.rand(TINY_LAYERS, generator=torch.Generator().manual_seed(seed)) * 0.8 + 0.1


#: families whose every check runs in the fast suite: the two-stream ones with a structural
#: twist (HunyuanVideo's dual -> single transition, Mochi's asymmetric widths and last block)
FAST = ("hunyuanvideo", "mochi")


@functools.cache
def _family(name: str) -> tuple[str, torch.nn.Module, dict]:
    return name, build_tiny_transformer(name, seed=21), tiny_inputs(name, seed=22)


def _params(fast: tuple[str, ...] = FAST) -> list:
    """Every family; those not in ``fast`` marked slow."""
    return [
        pytest.param(name, marks=() if name in fast else pytest.mark.slow)
        for name in sorted(REFERENCES)
    ]


@pytest.fixture
def family(request: pytest.FixtureRequest) -> tuple[str, torch.nn.Module, dict]:
    return _family(request.param)


def test_every_supported_class_has_a_tiny_transformer_and_a_reference() -> None:
    assert set(TINY_CLASSES.values()) == set(ADAPTERS)
    assert {TINY_CLASSES[name] for name in REFERENCES} | {"CogVideoXTransformer3DModel"} == set(
        ADAPTERS
    )


@pytest.mark.parametrize("family", _params(tuple(REFERENCES)), indirect=True)
@pytest.mark.parametrize("window", [4, pytest.param(6, marks=pytest.mark.slow)])
def test_cache_equals_the_family_reference_loop(family, window: int) -> None:
    name, stock, inputs = family
    gates = _gates(window)
    model = apply_repvideo(copy.deepcopy(stock), cache_window=window)
    set_gates(model, gates)
    expected = _out(stock_with_loop(stock, REFERENCES[name], gates, window), inputs)
    actual = _out(model, inputs)
    # 1e-6 relative (norm of the difference over the norm), as for CogVideoX in test_fidelity;
    # element-wise the two orders of float sums differ by a few ulps (at most ~2e-6 here)
    assert relative_error(actual, expected) <= 1e-6
    # the reference really mixes: far from the stock output
    assert relative_error(_out(stock, inputs), expected) > 1e-3


@pytest.mark.parametrize("family", _params(tuple(REFERENCES)), indirect=True)
def test_gates_off_and_zero_are_the_stock_forward_bit_for_bit(family) -> None:
    name, stock, inputs = family
    baseline = _out(stock, inputs)
    model = apply_repvideo(copy.deepcopy(stock), cache_window=4)
    set_gates(model, torch.zeros(TINY_LAYERS))
    assert torch.equal(_out(model, inputs), baseline)
    set_gates(model, _gates(3))
    assert not torch.allclose(_out(model, inputs), baseline, atol=1e-4)
    disable_repvideo(model)
    assert torch.equal(_out(model, inputs), baseline)
    with torch.no_grad():
        assert torch.equal(model(**inputs, return_dict=False)[0], baseline)


def _loss_and_grads(model: torch.nn.Module, inputs: dict):
    model.zero_grad(set_to_none=True)
    out = model(**inputs).sample
    out.square().mean().backward()
    return out.detach(), {
        n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None
    }


@pytest.mark.parametrize("family", _params(), indirect=True)
def test_gradient_checkpointing_gives_same_outputs_and_gate_grads(family) -> None:
    name, stock, inputs = family
    model = apply_repvideo(copy.deepcopy(stock), cache_window=6)
    set_gates(model, _gates(5))
    model.train()
    out_plain, grads_plain = _loss_and_grads(model, inputs)
    model.enable_gradient_checkpointing()
    calls = {"n": 0}
    original = model._gradient_checkpointing_func

    def counting(*args, **kwargs):
        calls["n"] += 1
        return original(*args, **kwargs)

    model._gradient_checkpointing_func = counting
    out_ckpt, grads_ckpt = _loss_and_grads(model, inputs)
    assert calls["n"] == TINY_LAYERS  # every block of the loop went through checkpointing
    assert torch.allclose(out_ckpt, out_plain, rtol=0, atol=1e-6)
    gate_grad = grads_plain["repvideo_gates"]
    assert torch.allclose(grads_ckpt["repvideo_gates"], gate_grad, rtol=1e-5, atol=1e-8)
    inactive = inactive_layers(TINY_LAYERS, 6)
    assert torch.all(gate_grad[inactive] == 0)
    active = [i for i in range(TINY_LAYERS) if i not in inactive]
    assert torch.all(gate_grad[active] != 0)


def test_hunyuan_window_6_straddles_the_dual_single_transition() -> None:
    """Window 6 (the paper's) in the fast suite for HunyuanVideo: blocks 5 and 6 (the first
    single blocks) read a cache holding dual-block outputs."""
    name, stock, inputs = _family("hunyuanvideo")
    gates = _gates(6)
    model = apply_repvideo(copy.deepcopy(stock), cache_window=6)
    set_gates(model, gates)
    expected = _out(stock_with_loop(stock, HunyuanConcatLoop, gates, 6), inputs)
    assert relative_error(_out(model, inputs), expected) <= 1e-6


def test_ltx2_mixes_the_audio_stream_too_and_its_output_equals_the_reference() -> None:
    """LTX-2 returns audio with the video: the audio output follows the reference loop too, and
    mixing only reaches it through the audio stream's own mix (not only via the video)."""
    name, stock, inputs = _family("ltx2")
    gates = _gates(4)
    model = apply_repvideo(copy.deepcopy(stock), cache_window=4)
    set_gates(model, gates)
    with torch.no_grad():
        expected = stock_with_loop(stock, LTX2ListLoop, gates, 4)(**inputs).audio_sample
        actual = model(**inputs).audio_sample
        stock_audio = stock(**inputs).audio_sample
    assert relative_error(actual, expected) <= 1e-6
    assert relative_error(stock_audio, expected) > 1e-3
    assert adapter_for(stock).streams == ("video", "audio")


@pytest.mark.slow
def test_ltx2_guidance_passes_and_ltx23_options_are_the_stock_forward_with_gates_off() -> None:
    """The adapter's forward carries LTX2Pipeline's other calls and LTX-2.3's options too:
    spatio-temporal guidance on some blocks (it acts through perturbed attention), isolated
    modalities, cross timesteps, prompt modulation from sigma, gated attention; gates 0 = the
    stock forward bit for bit, nonzero gates still mix."""
    import diffusers

    from repvideo_eval.repvideo.tiny_configs import TINY_CONFIGS

    _, _, inputs = _family("ltx2")
    config = dict(TINY_CONFIGS["ltx2"], perturbed_attn=True, gated_attn=True)
    config.update(audio_gated_attn=True, cross_attn_mod=True, audio_cross_attn_mod=True)
    torch.manual_seed(4)
    stock = diffusers.LTX2VideoTransformer3DModel(**config).eval()
    model = apply_repvideo(copy.deepcopy(stock), cache_window=4)
    set_gates(model, torch.zeros(TINY_LAYERS))
    sigma = inputs["audio_timestep"] / 1000
    base = {**inputs, "sigma": sigma}
    variants = (
        {"spatio_temporal_guidance_blocks": [1, 5]},
        {"spatio_temporal_guidance_blocks": [2], "perturbation_mask": torch.tensor([0.0, 1.0])},
        {"isolate_modalities": True},
        {"use_cross_timestep": True, "audio_sigma": sigma / 2},
    )
    with torch.no_grad():
        plain = stock(**base).sample
        assert torch.equal(model(**base).sample, plain)
        for extra in variants:
            expected = stock(**base, **extra)
            actual = model(**base, **extra)
            assert torch.equal(actual.sample, expected.sample), extra
            assert torch.equal(actual.audio_sample, expected.audio_sample), extra
            assert not torch.equal(expected.sample, plain), extra  # the option acts
        set_gates(model, _gates(7))
        assert not torch.allclose(model(**base).sample, plain, atol=1e-4)


def test_gate_count_is_the_whole_loop_for_hunyuan_dual_and_single_blocks() -> None:
    stock = build_tiny_transformer("hunyuanvideo", seed=0)
    assert len(stock.transformer_blocks) == 5 and len(stock.single_transformer_blocks) == 8
    model = apply_repvideo(stock)
    assert model.repvideo_gates.shape == (TINY_LAYERS,)


@pytest.mark.parametrize("name", tiny_names())
def test_lookup_accepts_every_tiny_family(name: str) -> None:
    assert can_wrap(TINY_CLASSES[name])
    assert adapter_for(TINY_CLASSES[name]).load().repvideo_base_class.__name__ == TINY_CLASSES[name]


def test_lookup_refuses_an_unsupported_class_with_one_line() -> None:
    assert not can_wrap("FluxTransformer2DModel")
    assert not can_wrap(torch.nn.Linear(2, 2))
    with pytest.raises(UserError) as error:
        adapter_for("FluxTransformer2DModel")
    message = str(error.value)
    assert "\n" not in message
    assert "RepVideo cannot wrap FluxTransformer2DModel" in message
    assert "MochiTransformer3DModel" in message  # the fix names what is supported
    with pytest.raises(UserError, match="cannot wrap Linear"):
        apply_repvideo(torch.nn.Linear(2, 2))
