"""Memory and speed options: parsed from cards and flags, hashed when they change numbers,
applied to the pipeline, recorded in sidecars."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from repvideo_eval import registry
from repvideo_eval.cli import run as run_cli
from repvideo_eval.config import MemorySettings, SpeedSettings
from repvideo_eval.errors import UserError
from repvideo_eval.generation.items import generation_items
from repvideo_eval.generation.pipelines import load_pipeline
from repvideo_eval.generation.runtime_options import (
    ACTIVATION_RESERVE_BYTES,
    GIB,
    apply_memory_options,
    attention_backend,
    choose_offload,
    resolve_offload,
)
from repvideo_eval.generation.tiny import build_tiny_components
from repvideo_eval.generation.worker import VideoGenerator


def _card(name: str = "cogvideox-tiny", **fields):
    return registry.card_from_dict({**registry.load_card(name).to_dict(), **fields})


def test_default_options_keep_existing_hashes_and_number_changing_options_change_them() -> None:
    base = registry.load_card("cogvideox-tiny")
    stripped = {k: v for k, v in base.to_dict().items() if k not in ("memory", "speed")}
    assert registry.card_from_dict(stripped).card_hash == base.card_hash
    neutral = _card(memory={"vae_slicing": True, "offload": "auto"})
    assert neutral.card_hash == base.card_hash  # slicing and offload never split videos
    changed = [
        _card(memory={"vae_tiling": True}),
        _card(speed={"compile": True}),
        _card(speed={"attention": "math"}),
        _card(speed={"tf32": True}),
    ]
    hashes = {card.card_hash for card in changed} | {base.card_hash}
    assert len(hashes) == len(changed) + 1


def test_bad_memory_or_speed_fields_are_one_line_user_errors() -> None:
    with pytest.raises(UserError, match=r"memory has unknown key\(s\) tiling"):
        _card(memory={"tiling": True})
    with pytest.raises(UserError, match="memory.offload must be one of"):
        _card(memory={"offload": "disk"})
    with pytest.raises(UserError, match="speed.attention must be one of"):
        _card(speed={"attention": "xformers"})


def test_command_line_flags_override_every_card() -> None:
    parser = argparse.ArgumentParser()
    run_cli.add_arguments(parser)
    args = parser.parse_args(
        ["--model", "tiny", "--vae-tiling", "on", "--offload", "auto", "--compile", "on"]
        + ["--attention", "math", "--tf32", "off"]
    )
    spec = run_cli.build_spec(args)
    for card in spec.models:
        assert card.memory == MemorySettings(vae_tiling=True, vae_slicing=False, offload="auto")
        assert card.speed == SpeedSettings(compile=True, attention="math", tf32=False)
        assert card.card_hash != registry.load_card(card.name).card_hash
    plain = run_cli.build_spec(parser.parse_args(["--model", "tiny"]))
    assert [c.card_hash for c in plain.models] == [
        registry.load_card(c.name).card_hash for c in plain.models
    ]


def test_auto_offload_table() -> None:
    sizes = {"text_encoder": 9 * GIB, "transformer": 3 * GIB, "vae": 1 * GIB}
    reserve = ACTIVATION_RESERVE_BYTES
    assert choose_offload(sizes, 13 * GIB + reserve) == "none"
    assert choose_offload(sizes, 13 * GIB + reserve - 1) == "model"
    assert choose_offload(sizes, 9 * GIB + reserve) == "model"
    assert choose_offload(sizes, 9 * GIB + reserve - 1) == "sequential"


def test_auto_reads_free_gpu_memory_and_cpu_never_offloads(monkeypatch) -> None:
    from repvideo_eval.generation import runtime_options

    sizes = {"text_encoder": 9 * GIB, "transformer": 3 * GIB, "vae": 1 * GIB}
    auto = MemorySettings(offload="auto")
    monkeypatch.setattr(runtime_options, "cuda_free_bytes", lambda device: 80 * GIB)
    assert resolve_offload(auto, "cuda:0", sizes) == "none"
    monkeypatch.setattr(runtime_options, "cuda_free_bytes", lambda device: 18 * GIB)
    assert resolve_offload(auto, "cuda:0", sizes) == "model"
    monkeypatch.setattr(runtime_options, "cuda_free_bytes", lambda device: 8 * GIB)
    assert resolve_offload(auto, "cuda", sizes) == "sequential"
    assert resolve_offload(auto, "cpu", sizes) == "none"
    with pytest.raises(UserError, match="needs a CUDA device"):
        resolve_offload(MemorySettings(offload="model"), "cpu", sizes)


class _RecordingPipe:
    """Stands in for a pipeline on a CUDA machine: records which offload call was made."""

    def __init__(self) -> None:
        self.vae = build_tiny_components(0)["vae"]
        self.calls: list[tuple[str, str]] = []

    def enable_model_cpu_offload(self, device: str) -> None:
        self.calls.append(("model", device))

    def enable_sequential_cpu_offload(self, device: str) -> None:
        self.calls.append(("sequential", device))


@pytest.mark.parametrize("offload", ["none", "model", "sequential"])
def test_each_memory_option_is_applied(offload: str) -> None:
    pipe = _RecordingPipe()
    memory = MemorySettings(vae_tiling=True, vae_slicing=True, offload=offload)
    apply_memory_options(pipe, memory, "cuda:1", offload)
    assert pipe.vae.use_tiling and pipe.vae.use_slicing
    assert pipe.calls == ([] if offload == "none" else [(offload, "cuda:1")])


def test_tiled_decoding_stays_within_tolerance_of_untiled() -> None:
    """Stated tolerance: mean |tiled - untiled| <= 0.05 of the [0, 1] pixel range (random
    weights; seams are where they differ). Tiles of 6x5 latents so a 12x12 latent needs 3x3."""
    vae = build_tiny_components(0)["vae"]
    z = torch.randn(1, 4, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        untiled = vae.decode(z).sample
        vae.enable_tiling(tile_sample_min_height=48, tile_sample_min_width=40)
        tiled = vae.decode(z).sample
    assert tiled.shape == untiled.shape == (1, 3, 1, 96, 96)
    difference = ((tiled.clamp(-1, 1) - untiled.clamp(-1, 1)) / 2).abs()
    assert difference.max() > 0  # tiling really ran
    assert float(difference.mean()) <= 0.05


def test_attention_backend_restricts_sdpa() -> None:
    assert torch.backends.cuda.flash_sdp_enabled()
    with attention_backend("math"):
        assert not torch.backends.cuda.flash_sdp_enabled()
        assert torch.backends.cuda.math_sdp_enabled()
    assert torch.backends.cuda.flash_sdp_enabled()


def test_tiled_sizes_match_diffusers_and_wrong_sizes_are_refused() -> None:
    from repvideo_eval.generation.runtime_options import check_tiled_size, tiled_decode_size

    vae = build_tiny_components(0)["vae"]
    vae.enable_tiling()  # 32x32-pixel tiles: a 64x64 video (8x8 latents) decodes to 70x68
    z = torch.randn(1, 4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        decoded = vae.decode(z).sample
    assert tiled_decode_size(vae, 8, 8) == tuple(decoded.shape[-2:]) == (70, 68)
    with pytest.raises(UserError, match="decodes 64x64 videos as 70x68"):
        check_tiled_size(vae, 64, 64)
    check_tiled_size(vae, 32, 32)  # one tile: exact
    # The real VAE's default tiles (240x360 pixels) add up exactly at 480x720.
    real = SimpleNamespace(
        config=SimpleNamespace(block_out_channels=(128, 256, 256, 512)),
        use_tiling=True,
        tile_sample_min_height=240,
        tile_sample_min_width=360,
        tile_latent_min_height=30,
        tile_latent_min_width=45,
        tile_overlap_factor_height=1 / 6,
        tile_overlap_factor_width=1 / 5,
    )
    check_tiled_size(real, 480, 720)


def test_options_reach_the_pipeline_and_every_sidecar(tmp_path: Path) -> None:
    card = _card(
        "repvideo-tiny",
        sampler={"preset": "tiny", "height": 32, "width": 32},  # one VAE tile: exact size
        memory={"vae_tiling": True, "vae_slicing": True, "offload": "auto"},
        speed={"attention": "math", "tf32": True},
    )
    previous = torch.backends.cuda.matmul.allow_tf32
    try:
        worker = VideoGenerator(card.to_dict(), device="cpu")
        assert torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    assert worker.pipe.vae.use_tiling and worker.pipe.vae.use_slicing
    item = generation_items(card, registry.load_suite("smoke"), tmp_path)[0]
    worker.process(item)
    sidecar = json.loads(Path(item.sidecar_path).read_text())
    assert sidecar["runtime"] == {
        "memory": {
            "vae_tiling": True,
            "vae_slicing": True,
            "offload": "none",
            "offload_requested": "auto",
        },
        "speed": {"compile": False, "attention": "math", "tf32": True},
    }
    assert sidecar["settings"]["memory"] == {"vae_tiling": True}


def test_offload_on_cpu_is_refused_before_loading_weights() -> None:
    card = dataclasses.replace(
        registry.load_card("cogvideox-tiny"), memory=MemorySettings(offload="sequential")
    )
    with pytest.raises(UserError, match="needs a CUDA device"):
        load_pipeline(card, "cpu")


def test_hunyuanvideo15_tiled_sizes_match_diffusers() -> None:
    """HunyuanVideo 1.5's VAE tiles as CogVideoX's does, with one overlap factor for both axes:
    the size check reads it (its real card decodes 480x848 tiled)."""
    from repvideo_eval.generation.runtime_options import check_tiled_size, tiled_decode_size
    from repvideo_eval.generation.tiny_families import build_family_components

    vae = build_family_components("hunyuanvideo1.5", 0, {})["vae"]
    vae.enable_tiling(tile_sample_min_height=80, tile_sample_min_width=80)
    vae.tile_latent_min_height = vae.tile_latent_min_width = 5  # 80 / 16: tiles of 5x5 latents
    z = torch.randn(1, 4, 1, 7, 5, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        decoded = vae.decode(z).sample
    assert tiled_decode_size(vae, 7, 5) == tuple(decoded.shape[-2:]) == (136, 92)
    with pytest.raises(UserError, match="decodes 112x80 videos as 136x92"):
        check_tiled_size(vae, 112, 80)
    # diffusers' default tiles (256 pixels, 16 latents) add up at 480x848
    vae.enable_tiling(tile_sample_min_height=256, tile_sample_min_width=256)
    vae.tile_latent_min_height = vae.tile_latent_min_width = 16
    check_tiled_size(vae, 480, 848)


@pytest.mark.parametrize("family", ["hunyuanvideo", "mochi"])
def test_stride_tiling_vaes_decode_every_size_and_pass_the_check(family: str) -> None:
    """HunyuanVideo's and Mochi's VAEs tile by stride and crop to the frame: their real cards
    turn tiling on, so the size check must accept them (it read CogVideoX's attributes and
    raised AttributeError at load) and the tiled frame must have the untiled size."""
    from repvideo_eval.generation.runtime_options import check_tiled_size
    from repvideo_eval.generation.tiny_families import build_family_components

    vae = build_family_components(family, 0, {})["vae"]
    scale = vae.spatial_compression_ratio
    vae.enable_tiling(
        tile_sample_min_height=4 * scale,
        tile_sample_min_width=4 * scale,
        tile_sample_stride_height=3 * scale,
        tile_sample_stride_width=3 * scale,
    )
    channels = vae.config.latent_channels
    z = torch.randn(1, channels, 1, 7, 5, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        decoded = vae.decode(z).sample
    assert tuple(decoded.shape[-2:]) == (7 * scale, 5 * scale)
    check_tiled_size(vae, 7 * scale, 5 * scale)


@pytest.mark.parametrize(
    ("card", "extra"),
    [("wan2.2-a14b-tiny", "transformer_2"), ("hunyuanvideo1.5-tiny", "text_encoder_2")],
)
def test_auto_offload_counts_every_module_of_a_loaded_pipeline(
    card: str, extra: str, monkeypatch
) -> None:
    """The sizes `auto` decides on for a pipeline loaded on the host: the second expert and the
    second text encoder count too (only text_encoder, transformer and vae did), and nothing
    that is not a module."""
    from repvideo_eval.generation import pipelines

    seen: list[dict[str, int]] = []

    def spy(memory, device, component_bytes=None):
        seen.append(dict(component_bytes or {}))
        return resolve_offload(memory, device, component_bytes)

    monkeypatch.setattr(pipelines, "resolve_offload", spy)
    pipe = load_pipeline(registry.load_card(card), "cpu")
    (sizes,) = seen
    assert {"text_encoder", "transformer", "vae", extra} <= set(sizes)
    assert "scheduler" not in sizes and "tokenizer" not in sizes
    module = getattr(pipe, extra)
    tensors = [*module.parameters(), *module.buffers()]
    assert sizes[extra] == sum(t.numel() * t.element_size() for t in tensors) > 0
