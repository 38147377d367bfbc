"""The probes on every family's tiny transformer (stock and RepVideo): read-only, right blocks,
right layout, attention masses equal a brute-force softmax over what the model attended to."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F

from repvideo_eval.analysis.families import PROBE_FAMILIES, probe_family
from repvideo_eval.analysis.probes import BLOCK_OUTPUT, RepresentationProbe
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import apply_repvideo
from repvideo_eval.repvideo.adapters import ADAPTERS
from repvideo_eval.repvideo.tiny_configs import (
    TINY_CLASSES,
    TINY_LAYERS,
    build_tiny_transformer,
    tiny_inputs,
)

FAMILIES = ["wan-2.1", "wan-2.2-ti2v", "hunyuanvideo", "hunyuanvideo1.5", "ltx", "ltx2", "mochi"]
ROW = 1  # guided batch of 2: row 1 is the conditional branch


def _forward(model: torch.nn.Module, inputs: dict) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs, return_dict=False)[0]


def test_every_adapted_family_can_be_probed() -> None:
    assert set(PROBE_FAMILIES) == set(ADAPTERS)
    with pytest.raises(UserError, match="do not support Linear"):
        probe_family(torch.nn.Linear(2, 2))


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("repvideo", [pytest.param(False, marks=pytest.mark.slow), True])
def test_probes_change_nothing_and_cover_every_block(name: str, repvideo: bool) -> None:
    model = build_tiny_transformer(name, seed=0)
    if repvideo:
        apply_repvideo(model, cache_window=4, gate_init=0.4)
    inputs = tiny_inputs(name, batch_size=2, seed=2)
    expected = _forward(model, inputs)
    with RepresentationProbe(model, {1}, guided=True, query_frame=1) as probe:
        got = _forward(model, inputs)
    assert torch.equal(got, expected)
    captures = probe.captures
    layout = captures.layout
    assert (layout.frames, layout.grid_h, layout.grid_w) in {(3, 4, 4), (3, 2, 2)}
    outputs = [c.block for c in captures.similarities if c.tensor == BLOCK_OUTPUT]
    assert outputs == list(range(TINY_LAYERS))  # HunyuanVideo: dual then single blocks
    assert [a.block for a in captures.attentions] == list(range(TINY_LAYERS))
    for capture in captures.attentions:
        total = capture.attention.frame_mass.sum(1) + capture.attention.text_mass
        torch.testing.assert_close(total, torch.ones(layout.frames))
        assert capture.attention.query_map.shape == (layout.sequence_len,)
    family = probe_family(model)
    if family.order == "video_only":  # Wan, LTX: self-attention sees no text
        assert layout.text_len == 0
    else:
        assert layout.text_len > 0
    # processors and hooks are gone
    for block in family.blocks(model):
        assert not type(getattr(block, family.self_attention).processor).__name__.startswith(
            "Recording"
        )
        assert not block._forward_hooks and not block._forward_pre_hooks


def _brute_force_masses(query, key, mask_valid, video_len, text_first_order, layout):
    """Full softmax of one row's (H, L, D) query/key; masses per frame of the video queries."""
    logits = query.float() @ key.float().transpose(-1, -2) / query.shape[-1] ** 0.5
    if mask_valid is not None:
        logits = logits.masked_fill(~mask_valid, float("-inf"))
    probs = logits.softmax(-1).mean(0)  # (L, L) over heads
    text = layout.text_len
    video_rows = slice(0, video_len) if not text_first_order else slice(text, text + video_len)
    video_cols = video_rows
    text_cols = slice(video_len, video_len + text) if not text_first_order else slice(0, text)
    per_frame = layout.tokens_per_frame
    p = probs[video_rows]
    frame_mass = p[:, video_cols].reshape(layout.frames, per_frame, layout.frames, per_frame)
    frame_mass = frame_mass.sum(-1).mean(1)
    text_mass = p[:, text_cols].sum(-1).reshape(layout.frames, per_frame).mean(1)
    return frame_mass, text_mass


@pytest.mark.parametrize("name", ["wan-2.1", "hunyuanvideo", "hunyuanvideo1.5", "ltx", "ltx2"])
def test_frame_masses_equal_a_brute_force_softmax_of_the_models_attention(name: str) -> None:
    """Independent spy on diffusers' dispatch_attention_fn: full softmax, masked padding."""
    model = build_tiny_transformer(name, seed=0)
    inputs = tiny_inputs(name, batch_size=2, seed=5)
    family = probe_family(model)
    block = family.blocks(model)[3]
    processor = getattr(block, family.self_attention).processor
    module = sys.modules[type(processor).__module__]
    original = module.dispatch_attention_fn
    seen: list = []
    in_block = {"on": False}

    def spy(query, key, value, attn_mask=None, **kwargs):
        if in_block["on"]:
            seen.append((query, key, attn_mask))
        return original(query, key, value, attn_mask=attn_mask, **kwargs)

    handles = [
        block.register_forward_pre_hook(lambda *a: in_block.update(on=True)),
        block.register_forward_hook(lambda *a: in_block.update(on=False)),
    ]
    with RepresentationProbe(model, {1}, guided=True, query_frame=0) as probe:
        module.dispatch_attention_fn = spy
        try:
            _forward(model, inputs)
        finally:
            module.dispatch_attention_fn = original
    for handle in handles:
        handle.remove()
    layout = probe.captures.layout
    # block 3's self-attention: its first attention call (Wan's, LTX's cross-attention follow)
    query, key, mask = seen[0]
    query, key = query[ROW].transpose(0, 1), key[ROW].transpose(0, 1)
    valid = None
    if mask is not None:
        m = mask[ROW].reshape(-1, mask.shape[-1])
        valid = m[0].bool()
    expected_frames, expected_text = _brute_force_masses(
        query, key, valid, layout.video_len, False, layout
    )
    got = [a.attention for a in probe.captures.attentions if a.block == 3][0]
    torch.testing.assert_close(got.frame_mass, expected_frames, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(got.text_mass, expected_text, atol=1e-5, rtol=1e-4)
    if name in ("hunyuanvideo", "hunyuanvideo1.5"):
        assert valid is not None and not bool(valid.all())  # padding really was masked
        padded = (~valid).nonzero().flatten() - layout.video_len  # positions in the text
        assert torch.all(got.query_map[padded] == 0)  # text first in the map


def test_mochi_scatters_valid_text_back_and_masks_padding() -> None:
    model = build_tiny_transformer("mochi", seed=0)
    inputs = tiny_inputs("mochi", batch_size=2, seed=6)
    mask = inputs["encoder_attention_mask"][ROW].bool()
    assert not bool(mask.all())
    with RepresentationProbe(model, {1}, guided=True, query_frame=2) as probe:
        _forward(model, inputs)
    layout = probe.captures.layout
    assert layout.text_len == mask.numel()
    for capture in probe.captures.attentions:
        query_map = capture.attention.query_map
        assert torch.all(query_map[: layout.text_len][~mask] == 0)
        assert torch.all(query_map[: layout.text_len][mask] > 0)


def test_similarity_reads_the_conditional_video_stream_of_single_stream_blocks() -> None:
    model = build_tiny_transformer("hunyuanvideo", seed=0)
    inputs = tiny_inputs("hunyuanvideo", batch_size=2, seed=3)
    outputs: list[torch.Tensor] = []
    block = model.single_transformer_blocks[2]  # loop block 5 + 2 = 7
    handle = block.register_forward_hook(lambda m, a, out: outputs.append(out[0].detach()))
    with RepresentationProbe(model, {1}, guided=True, attention=False) as probe:
        _forward(model, inputs)
    handle.remove()
    frames = outputs[0][ROW].reshape(3, 16, -1)
    expected = F.cosine_similarity(frames[:-1], frames[1:], dim=-1).mean(-1)
    got = [c for c in probe.captures.similarities if c.tensor == BLOCK_OUTPUT and c.block == 7]
    torch.testing.assert_close(got[0].similarity.token_matched, expected)


def test_tiny_classes_cover_the_probe_families() -> None:
    assert {TINY_CLASSES[n] for n in FAMILIES} | {"CogVideoXTransformer3DModel"} == set(
        PROBE_FAMILIES
    )


def test_sequential_cfg_reads_the_first_call_of_each_step() -> None:
    """Wan's pipeline calls the transformer per branch, conditional first, same timestep."""
    from repvideo_eval.analysis.branch import sequential_cfg

    model = build_tiny_transformer("wan-2.1", seed=0)
    cond = tiny_inputs("wan-2.1", batch_size=1, seed=7)
    uncond = dict(cond, encoder_hidden_states=torch.zeros_like(cond["encoder_hidden_states"]))
    outputs: list[torch.Tensor] = []
    handle = model.blocks[4].register_forward_hook(lambda m, a, out: outputs.append(out.detach()))
    with RepresentationProbe(model, {2}, guided=True, sequential_cfg=True) as probe:
        for t in (999, 500, 250):
            for branch in (cond, uncond):
                _forward(model, dict(branch, timestep=torch.tensor([t])))
    handle.remove()
    captures = probe.captures
    assert (captures.calls, captures.steps) == (6, 3)
    assert captures.timesteps == {2: 500.0}
    got = [c for c in captures.similarities if c.tensor == BLOCK_OUTPUT and c.block == 4]
    assert len(got) == 1 and got[0].step == 2
    frames = outputs[2][0].reshape(3, 16, -1)  # call 3 = step 2, conditional
    expected = F.cosine_similarity(frames[:-1], frames[1:], dim=-1).mean(-1)
    torch.testing.assert_close(got[0].similarity.token_matched, expected)
    unconditional = outputs[3][0].reshape(3, 16, -1)
    assert not torch.allclose(
        F.cosine_similarity(unconditional[:-1], unconditional[1:], dim=-1).mean(-1), expected
    )

    class WanPipeline:  # named like diffusers' pipeline: only the class name is read
        pass

    assert sequential_cfg(WanPipeline()) and not sequential_cfg(object())
