"""RepVideo through the generation worker on every family's tiny twin: a card's `repvideo:` block
with gates off writes the very mp4 bytes of the baseline card, fixed gates change the frames, and
every denoising transformer of the pipeline is wrapped (Wan 2.2 A14B's two experts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from repvideo_eval import registry
from repvideo_eval.config import ModelCard, RepVideoSettings
from repvideo_eval.generation.items import GenerationItem
from repvideo_eval.generation.video_io import read_video_frames
from repvideo_eval.generation.worker import VideoGenerator
from repvideo_eval.repvideo import is_repvideo, pipeline_transformers

TWINS = (
    "cogvideox-tiny",
    "cogvideox1.5-tiny",
    "wan-tiny",
    "wan2.2-tiny",
    "wan2.2-a14b-tiny",
    "hunyuanvideo-tiny",
    "hunyuanvideo1.5-tiny",
    "ltx-tiny",
    "ltx2-tiny",
    "mochi-tiny",
)
PROMPT = "a red car driving down a road"
SEED = 5
#: window 2 keeps every tiny transformer's blocks in play (each has at least 2 blocks)
GATES_OFF = RepVideoSettings(cache_window=2, gates="off")
FIXED = RepVideoSettings(cache_window=2, gates="fixed", gate_value=0.5)


def _generate(card: ModelCard, out: Path) -> tuple[VideoGenerator, Path]:
    generator = VideoGenerator(card.to_dict(), device="cpu")
    video = out / f"{card.card_hash}.mp4"
    item = GenerationItem(
        key=f"{card.card_hash}/video",
        card_name=card.name,
        card_hash=card.card_hash,
        prompt=PROMPT,
        prompt_index=0,
        sample=0,
        seed=SEED,
        video_path=str(video),
        sidecar_path=str(out / f"{card.card_hash}.json"),
    )
    generator.process(item)
    return generator, video


@pytest.mark.parametrize("name", TWINS)
def test_gates_off_is_the_baseline_and_fixed_gates_change_the_video(
    name: str, tmp_path: Path
) -> None:
    base = registry.load_card(name)
    assert base.repvideo is None
    _, baseline = _generate(base, tmp_path)
    off_generator, off = _generate(base.with_repvideo(GATES_OFF, name=f"{name}@off"), tmp_path)
    fixed_generator, fixed = _generate(base.with_repvideo(FIXED, name=f"{name}@fixed"), tmp_path)

    for generator in (off_generator, fixed_generator):  # the variants really are RepVideo models
        transformers = pipeline_transformers(generator.pipe)
        assert transformers and all(is_repvideo(t) for t in transformers)
    assert off.read_bytes() == baseline.read_bytes()
    baseline_frames = read_video_frames(baseline)
    assert np.array_equal(read_video_frames(off), baseline_frames)
    fixed_frames = read_video_frames(fixed)
    assert fixed_frames.shape == baseline_frames.shape
    assert not np.array_equal(fixed_frames, baseline_frames)


def test_wan22_a14b_wraps_both_experts() -> None:
    base = registry.load_card("wan2.2-a14b-tiny")
    settings = RepVideoSettings(cache_window=2, gates="learned")
    generator = VideoGenerator(base.with_repvideo(settings, name="a14b@learned").to_dict(), "cpu")
    high, low = pipeline_transformers(generator.pipe)
    assert high is generator.pipe.transformer and low is generator.pipe.transformer_2
    assert is_repvideo(high) and is_repvideo(low)
    assert high.repvideo_enabled and low.repvideo_enabled
    assert high.repvideo_cache_window == low.repvideo_cache_window == 2
    # Each expert has its own stand-in learned gates (different networks, different gates).
    assert not torch.equal(high.repvideo_gates, low.repvideo_gates)


def test_hub_path_wraps_both_a14b_experts(tmp_path: Path) -> None:
    """A saved diffusers folder of the A14B twin, loaded as a hub card with fixed gates, wraps
    both experts and samples the same video as the in-memory twin with the same block."""
    from repvideo_eval.generation.pipelines import load_pipeline, sample_video

    twin = registry.load_card("wan2.2-a14b-tiny").with_repvideo(FIXED)
    load_pipeline(registry.load_card("wan2.2-a14b-tiny"), "cpu").save_pretrained(tmp_path / "hub")
    data = {**twin.to_dict(), "source": "hub", "tiny_seed": None, "weights": str(tmp_path / "hub")}
    card = registry.card_from_dict(data)
    pipe = load_pipeline(card, "cpu")
    experts = pipeline_transformers(pipe)
    assert len(experts) == 2 and all(is_repvideo(t) for t in experts)
    assert all(
        torch.equal(t.repvideo_gates, torch.full_like(t.repvideo_gates, 0.5)) for t in experts
    )
    in_memory = load_pipeline(twin, "cpu")
    for loaded, built in zip(experts, pipeline_transformers(in_memory), strict=True):
        built_state = built.state_dict()
        assert all(torch.equal(v, built_state[k]) for k, v in loaded.state_dict().items())
    a, _ = sample_video(pipe, card, PROMPT, seed=SEED)
    b, _ = sample_video(in_memory, twin, PROMPT, seed=SEED)
    # Same weights bit for bit, but safetensors maps them at other memory alignments than
    # torch's allocator, and the CPU GEMM kernels round the last bit by alignment (measured:
    # 6e-8 after the first Linear): equal within float32 rounding, not byte for byte.
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    assert not np.allclose(a, 0.5, atol=1e-3)  # a real video, not a constant frame


def test_hub_transformer_config_overrides_any_family(tmp_path: Path) -> None:
    """`transformer_config` loads the folder's own transformer class (it was CogVideoX's only)."""
    from repvideo_eval.generation.pipelines import load_pipeline

    tiny = registry.load_card("wan-tiny")
    load_pipeline(tiny, "cpu").save_pretrained(tmp_path / "hub")
    data = {**tiny.to_dict(), "source": "hub", "tiny_seed": None, "weights": str(tmp_path / "hub")}
    saved_eps = float(load_pipeline(tiny, "cpu").transformer.config.eps)
    card = registry.card_from_dict({**data, "transformer_config": {"eps": saved_eps * 10}})
    pipe = load_pipeline(card, "cpu")
    assert type(pipe.transformer).__name__ == "WanTransformer3DModel"
    assert pipe.transformer.config.eps == pytest.approx(saved_eps * 10)
