"""The probes on tiny CogVideoX transformers: they read the real tensors and change nothing."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from repvideo_eval.analysis.layout import cogvideox_layout
from repvideo_eval.analysis.probes import (
    BLOCK_INPUT,
    BLOCK_OUTPUT,
    RepresentationProbe,
    cogvideox_query_key,
    repvideo_gates,
)
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import apply_repvideo, inactive_layers
from repvideo_eval.repvideo.tiny_configs import build_tiny_transformer, tiny_inputs


def _forward(model: torch.nn.Module, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs, return_dict=False)[0]


@pytest.mark.parametrize("family", ["cogvideox-2b", "cogvideox-5b", "cogvideox-1.5"])
def test_reconstructed_queries_and_keys_reproduce_the_processor_output(family: str) -> None:
    # softmax(q k^T / sqrt(d)) v through to_out must equal what the stock processor returned for
    # the conditional row: the probes analyse the attention the model really computes (incl. rotary).
    model = build_tiny_transformer(family, seed=0)
    inputs = tiny_inputs(family, batch_size=2, seed=1)
    block = model.transformer_blocks[4]
    seen: dict = {}
    inner = block.attn1.processor

    def spy(attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        out = inner(
            attn,
            hidden_states,
            encoder_hidden_states,
            attention_mask=attention_mask,
            image_rotary_emb=image_rotary_emb,
        )
        seen.update(
            attn=attn,
            video=hidden_states,
            text=encoder_hidden_states,
            rotary=image_rotary_emb,
            out=out,
        )
        return out

    block.attn1.processor = spy
    _forward(model, inputs)
    block.attn1.processor = inner
    attn, row = seen["attn"], slice(1, 2)
    with torch.no_grad():
        query, key = cogvideox_query_key(
            attn, seen["video"][row], seen["text"][row], seen["rotary"]
        )
        sequence = torch.cat([seen["text"][row], seen["video"][row]], dim=1)
        value = attn.to_v(sequence).view(1, -1, attn.heads, query.shape[-1]).transpose(1, 2)[0]
        probs = torch.softmax(query @ key.transpose(-1, -2) / query.shape[-1] ** 0.5, dim=-1)
        mixed = (probs @ value).transpose(0, 1).reshape(1, -1, attn.heads * query.shape[-1])
        projected = attn.to_out[0](mixed)
    text_len = seen["text"].shape[1]
    video_out, text_out = seen["out"]
    torch.testing.assert_close(projected[:, text_len:], video_out[row], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(projected[:, :text_len], text_out[row], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("repvideo", [False, True])
def test_outputs_are_bit_identical_and_hooks_are_removed(repvideo: bool) -> None:
    model = build_tiny_transformer("cogvideox-5b", seed=0)
    if repvideo:
        apply_repvideo(model, cache_window=6, gate_init=0.4)
    inputs = tiny_inputs("cogvideox-5b", batch_size=2, seed=2)
    processors = [b.attn1.processor for b in model.transformer_blocks]
    plain = _forward(model, inputs)
    with RepresentationProbe(model, {1}, guided=True, query_frame=1) as probe:
        probed = _forward(model, inputs)
    assert torch.equal(plain, probed)
    assert len(probe.captures.attentions) == len(model.transformer_blocks)
    assert [b.attn1.processor for b in model.transformer_blocks] == processors
    assert not model._forward_pre_hooks
    assert all(not b._forward_hooks and not b._forward_pre_hooks for b in model.transformer_blocks)


def test_similarities_are_those_of_the_conditional_rows_block_outputs() -> None:
    model = build_tiny_transformer("cogvideox-2b", seed=0)
    inputs = tiny_inputs("cogvideox-2b", batch_size=2, seed=3)
    outputs: list[torch.Tensor] = []
    handles = [
        b.register_forward_hook(lambda m, a, out: outputs.append(out[0].detach()))
        for b in model.transformer_blocks
    ]
    with RepresentationProbe(model, {1}, guided=True, attention=False) as probe:
        _forward(model, inputs)
    for handle in handles:
        handle.remove()
    layout = probe.captures.layout
    assert layout == cogvideox_layout(
        model.config, tuple(inputs["hidden_states"].shape), inputs["encoder_hidden_states"].shape[1]
    )
    assert (layout.frames, layout.grid_h, layout.grid_w) == (3, 4, 4)
    got = [c for c in probe.captures.similarities if c.tensor == BLOCK_OUTPUT]
    assert [c.block for c in got] == list(range(len(model.transformer_blocks)))
    for capture, output in zip(got, outputs):
        frames = output[1].reshape(3, 16, -1)  # row 1 = conditional branch
        expected = F.cosine_similarity(frames[:-1], frames[1:], dim=-1).mean(-1)
        torch.testing.assert_close(capture.similarity.token_matched, expected)


def test_temporal_patching_groups_latent_frames() -> None:
    model = build_tiny_transformer("cogvideox-1.5", seed=0)  # patch_size_t = 2, 4 latent frames
    inputs = tiny_inputs("cogvideox-1.5", batch_size=2, seed=0)
    with RepresentationProbe(model, {1}, guided=True, query_frame=0) as probe:
        _forward(model, inputs)
    assert probe.captures.layout.frames == 2
    mass = probe.captures.attentions[0].attention
    torch.testing.assert_close(mass.frame_mass.sum(1) + mass.text_mass, torch.ones(2))


def test_block_input_is_the_mixed_tensor_under_repvideo() -> None:
    # Stock loop: block i's input is block i-1's output, so their similarities coincide. RepVideo:
    # they coincide only where the mix is a no-op (inactive blocks), elsewhere the input is mixed.
    stock = build_tiny_transformer("cogvideox-2b", seed=0)
    rep = apply_repvideo(copy.deepcopy(stock), cache_window=6, gate_init=0.5)
    inputs = tiny_inputs("cogvideox-2b", batch_size=2, seed=4)
    layers = len(stock.transformer_blocks)
    for model, is_rep in ((stock, False), (rep, True)):
        with RepresentationProbe(model, {1}, guided=True, attention=False) as probe:
            _forward(model, inputs)
        by_key = {
            (c.block, c.tensor): c.similarity.token_matched for c in probe.captures.similarities
        }
        inactive = set(inactive_layers(layers, 6))
        for i in range(1, layers):
            same = torch.equal(by_key[(i, BLOCK_INPUT)], by_key[(i - 1, BLOCK_OUTPUT)])
            assert same == (not is_rep or i in inactive), (is_rep, i)


def test_only_chosen_steps_are_recorded_and_calls_are_counted() -> None:
    model = build_tiny_transformer("cogvideox-2b", seed=0)
    inputs = tiny_inputs("cogvideox-2b", batch_size=1, seed=5)
    with RepresentationProbe(model, {2}, guided=False) as probe:
        for _ in range(3):
            _forward(model, inputs)
    captures = probe.captures
    assert captures.calls == 3
    assert {c.step for c in captures.similarities} == {2} and {
        c.step for c in captures.attentions
    } == {2}
    assert captures.timesteps == {2: float(inputs["timestep"][0])}


def test_gates_report_values_and_inactive_blocks() -> None:
    stock = build_tiny_transformer("cogvideox-2b", seed=0)
    assert repvideo_gates(stock) == []
    rep = apply_repvideo(stock, cache_window=6, gate_init=0.5)
    with torch.no_grad():
        rep.repvideo_gates[3] = 0.0
    infos = repvideo_gates(rep)
    assert [i.block for i in infos] == list(range(13))
    assert infos[2].gate == 0.5 and infos[3].gate == 0.0
    assert [i.block for i in infos if not i.mixes] == sorted(set(inactive_layers(13, 6)) | {3})
    rep.repvideo_enabled = False
    assert not any(i.mixes for i in repvideo_gates(rep))


def test_unsupported_attention_processor_is_a_user_error() -> None:
    model = build_tiny_transformer("cogvideox-2b", seed=0)
    model.fuse_qkv_projections()
    with pytest.raises(UserError, match="CogVideoXAttnProcessor2_0"):
        with RepresentationProbe(model, {1}, guided=True):
            pass
    assert not model._forward_pre_hooks
