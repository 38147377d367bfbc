"""Full-size random twins on this CPU: the real widths (and, in the slow test, the real depths).

One denoising step of the CogVideoX-2B transformer with CFG (batch 2) at a reduced latent size,
with RepVideo gates off equal to the stock forward bit for bit; a tiled decode with the full-size
VAE; a prompt through the full-size T5-XXL encoder in bf16. Components are built one at a time
and freed, so the slow run peaks at T5-XXL's 9.5 GB. The light run keeps every width and cuts
depth (2 of 30 blocks, 1 of 24 T5 layers, 1 of 3 VAE layers per block).
"""

from __future__ import annotations

import gc

import pytest
import torch
from accelerate import init_empty_weights

from repvideo_eval.generation.random_twins import (
    COMPONENTS,
    _build_empty,
    architecture_configs,
    architecture_names,
    build_empty_component,
    build_random_component,
    component_class,
    materialize_seeded,
    module_components,
    parameter_count,
    random_learned_gates,
    random_scheduler,
)
from repvideo_eval.generation.tokenizer import build_tiny_t5_tokenizer
from repvideo_eval.repvideo import apply_repvideo, configure_repvideo, set_gates

FULL = {"transformer": None, "vae": None, "text_encoder": None}
LIGHT = {
    "transformer": {"num_layers": 2},
    "vae": {"layers_per_block": 1},
    "text_encoder": {"num_layers": 1},
}
SIZES = [pytest.param(LIGHT, id="light"), pytest.param(FULL, id="full", marks=pytest.mark.slow)]
#: The VAE and T5 fills at full width take ~30 s each here; `make gpu-check-cpu` decodes with every
#: family's full-width VAE, so `make test` keeps only the transformer's light case.
SLOW_SIZES = [
    pytest.param(o, id=i, marks=pytest.mark.slow) for o, i in ((LIGHT, "light"), (FULL, "full"))
]


def _transformer_inputs(config: dict, batch: int = 2) -> dict:
    """A reduced latent (2 latent frames of 8x12) with the real text length and widths."""
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(batch, 2, config["in_channels"], 8, 12, generator=generator)
    text = torch.randn(batch, config["max_text_seq_length"], config["text_embed_dim"])
    return {
        "hidden_states": latents.to(torch.bfloat16),
        "encoder_hidden_states": (0.1 * text).to(torch.bfloat16),
        "timestep": torch.tensor([999, 999]),
    }


@pytest.mark.parametrize("overrides", SIZES)
def test_transformer_step_and_gates_off_equal_the_baseline_bit_for_bit(overrides: dict) -> None:
    config = architecture_configs("cogvideox-2b")["transformer"]
    model = build_random_component(
        "cogvideox-2b", "transformer", 0, torch.bfloat16, "cpu", overrides["transformer"]
    )
    assert model.config.num_attention_heads * model.config.attention_head_dim == 1920
    if overrides["transformer"] is None:
        assert len(model.transformer_blocks) == 30
    inputs = _transformer_inputs(config)
    with torch.no_grad():
        baseline = model(**inputs).sample
        apply_repvideo(model, cache_window=6)
        set_gates(model, random_learned_gates(len(model.transformer_blocks), 0))
        mixed = model(**inputs).sample
        configure_repvideo(model, gates="off")
        off = model(**inputs).sample
    assert baseline.shape == (2, 2, 16, 8, 12) and bool(torch.isfinite(baseline).all())
    assert torch.equal(off, baseline)
    if len(model.transformer_blocks) > 2:  # blocks 0 and 1 never mix (window 6)
        assert not torch.equal(mixed, baseline)
    del model
    gc.collect()


@pytest.mark.parametrize("overrides", SLOW_SIZES)
def test_full_width_vae_decodes_a_small_latent_with_tiling(overrides: dict) -> None:
    vae = build_random_component("cogvideox-2b", "vae", 0, torch.float32, "cpu", overrides["vae"])
    assert list(vae.config.block_out_channels) == [128, 256, 256, 512]
    # Tiles of 6x5 latents (48x40 pixels; sizes whose overlaps add up with diffusers' default
    # overlap factors 1/6 and 1/5), so a 7x6 latent is decoded as 2x2 tiles.
    vae.enable_tiling(tile_sample_min_height=48, tile_sample_min_width=40)
    latent = torch.randn(1, 16, 1, 7, 6, generator=torch.Generator().manual_seed(0))
    decoded_tiles: list[int] = []
    vae.decoder.register_forward_hook(lambda *args: decoded_tiles.append(1))
    with torch.no_grad():
        frames = vae.decode(latent).sample
    assert len(decoded_tiles) == 4
    assert frames.shape == (1, 3, 1, 56, 48) and bool(torch.isfinite(frames).all())
    del vae
    gc.collect()


def _streamed_t5_xxl(overrides: dict | None) -> torch.nn.Module:
    """T5-XXL with each block made (seeded, bf16) just before it runs and freed after it, so the
    full 24-layer encoder fits beside other jobs (peak ~1 GiB instead of 9.1). The values are
    those of build_random_component's whole model: same seeds, same names."""
    config = {**architecture_configs("cogvideox-2b")["text_encoder"], **(overrides or {})}
    seed = 0 + COMPONENTS.index("text_encoder")
    encoder = _build_empty("text_encoder", config)
    blocks = encoder.encoder.block

    def make(name: str):  # hooks must return None, or they replace the block's inputs/outputs
        return lambda m, args: (materialize_seeded(m, seed, torch.bfloat16, "cpu", name), None)[1]

    def free(m: torch.nn.Module, args: object, out: object) -> None:
        m.to("meta")

    for i, block in enumerate(blocks):
        block.register_forward_pre_hook(make(f"encoder.block.{i}"))
        block.register_forward_hook(free)
    for name, module in encoder.named_children():
        if name != "encoder":
            materialize_seeded(module, seed, torch.bfloat16, "cpu", name)
    for name, module in encoder.encoder.named_children():
        if name not in ("block", "embed_tokens"):
            materialize_seeded(module, seed, torch.bfloat16, "cpu", f"encoder.{name}")
    encoder.encoder.embed_tokens.weight = encoder.shared.weight  # tied, as in the whole model
    return encoder


@pytest.mark.parametrize("overrides", SLOW_SIZES)
def test_full_width_t5_xxl_encodes_a_prompt_in_bf16(overrides: dict) -> None:
    encoder = _streamed_t5_xxl(overrides["text_encoder"])
    assert encoder.config.d_model == 4096 and encoder.config.d_ff == 10240
    if overrides["text_encoder"] is None:
        assert len(encoder.encoder.block) == 24
    tokens = build_tiny_t5_tokenizer()(
        "a red car driving down a road",
        padding="max_length",
        max_length=226,
        truncation=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        embeds = encoder(tokens.input_ids).last_hidden_state
    assert embeds.shape == (1, 226, 4096) and embeds.dtype == torch.bfloat16
    assert bool(torch.isfinite(embeds).all())
    if overrides["text_encoder"] is not None:  # streamed values == the whole-model build's
        whole = build_random_component(
            "cogvideox-2b", "text_encoder", 0, torch.bfloat16, "cpu", overrides["text_encoder"]
        )
        with torch.no_grad():
            torch.testing.assert_close(whole(tokens.input_ids).last_hidden_state, embeds)
        del whole
    del encoder
    gc.collect()


def test_same_seed_same_weights_made_in_the_target_dtype() -> None:
    """No fp32 parameter ever exists; the same seed and name give the same values."""

    def build(seed: int) -> torch.nn.Module:
        with init_empty_weights(include_buffers=False):
            module = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.LayerNorm(32))
        return materialize_seeded(module, seed, torch.bfloat16, "cpu")

    a, b, c = build(3), build(3), build(4)
    assert {p.dtype for p in a.parameters()} == {torch.bfloat16}
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, c[0].weight)
    assert float(a[0].weight.float().std()) == pytest.approx(1 / 8, rel=0.1)  # 1/sqrt(fan_in)
    assert torch.equal(a[0].bias, torch.zeros(32, dtype=torch.bfloat16))
    assert torch.equal(a[1].weight, torch.ones(32, dtype=torch.bfloat16))


def test_tied_parameters_stay_tied() -> None:
    with init_empty_weights(include_buffers=False):
        module = torch.nn.Sequential(torch.nn.Embedding(16, 8), torch.nn.Linear(8, 16))
    module[1].weight = module[0].weight  # tied after the context, as models tie on meta
    materialize_seeded(module, 0, torch.float32, "cpu")
    assert module[1].weight is module[0].weight and len(list(module.parameters())) == 2


# ------------------------------------------------ every family: public configs and their counts

#: The families issue 20 asks for, each with at least one shipped architecture.
FAMILY_ARCHITECTURES = (
    "cogvideox-2b",
    "cogvideox-5b",
    "cogvideox1.5-5b",
    "wan2.1-t2v-1.3b",
    "wan2.1-t2v-14b",
    "wan2.2-ti2v-5b",
    "wan2.2-t2v-a14b",
    "hunyuanvideo",
    "hunyuanvideo1.5-480p-t2v",
    "ltx-video",
    "ltx-2",
    "mochi-1",
)


def _published_tolerance(entry: dict) -> float:
    """Absolute tolerance: half a unit of the published figure's last digit ("8.3B": 0.05B),
    unless the file records a relative tolerance with the reason."""
    if "relative_tolerance" in entry:
        assert entry.get("note"), "a widened tolerance needs its reason in the file"
        return float(entry["relative_tolerance"]) * float(entry["parameters"])
    figure = entry["published"].rstrip("B")
    decimals = len(figure.partition(".")[2])
    return 0.5 * 10.0**-decimals * 1e9


def test_every_family_ships_its_public_configs() -> None:
    assert set(FAMILY_ARCHITECTURES) <= set(architecture_names())


@pytest.mark.parametrize("name", FAMILY_ARCHITECTURES)
def test_meta_build_counts_equal_the_recorded_and_published_sizes(name: str) -> None:
    """Every component built on the meta device (no weights) has the parameter count the file
    records; the transformer's count is within rounding of the size its makers publish."""
    configs = architecture_configs(name)
    components = module_components(configs)
    assert {"transformer", "vae", "text_encoder"} <= set(components)
    assert set(configs["_parameters"]) == set(components)
    for component in components:
        module = build_empty_component(name, component)
        assert {p.device.type for p in module.parameters()} == {"meta"}
        assert parameter_count(module) == configs["_parameters"][component], component
    assert "transformer" in configs["_published"]
    for component, entry in configs["_published"].items():
        count = configs["_parameters"][component]
        assert abs(count - float(entry["parameters"])) <= _published_tolerance(entry), (
            f"{name} {component}: {count / 1e9:.3f}B vs published {entry['published']}"
        )
        assert entry["source"]


@pytest.mark.parametrize("name", FAMILY_ARCHITECTURES)
def test_every_config_names_its_source_and_class(name: str) -> None:
    configs = architecture_configs(name)
    assert configs["_source"]["hub_id"] and configs["_source"]["licence"]
    for component in (*module_components(configs), "scheduler"):
        source = configs["_sources"][component]
        assert source["repository"] and source["path"], component
        assert (
            component_class(configs, component).__name__
            == configs["_classes"][component].rpartition(".")[2]
        )
    import diffusers

    assert hasattr(diffusers, configs["_pipeline"])
    random_scheduler(name)  # the scheduler config builds


def test_a_tolerance_is_half_a_unit_of_the_published_figure() -> None:
    assert _published_tolerance({"published": "8.3B", "parameters": 8.3e9}) == pytest.approx(5e7)
    assert _published_tolerance({"published": "13B", "parameters": 13e9}) == pytest.approx(5e8)
    with pytest.raises(AssertionError):
        _published_tolerance({"published": "5B", "parameters": 5e9, "relative_tolerance": 0.2})


# ------------------------------------------------------------- docs/gpu.md's tables, by test


def _gib(count: float) -> str:
    return f"{count / 2**30:.2f}"


def _memory_row(name: str) -> str:
    from repvideo_eval.generation.runtime_options import architecture_memory

    memory = architecture_memory(name, torch.bfloat16)
    weights = memory["weights"]
    transformers = sum(v for k, v in weights.items() if k.startswith("transformer"))
    encoders = sum(v for k, v in weights.items() if k.startswith("text_encoder"))
    return (
        f"| {name} | {_gib(transformers)} | {_gib(weights['vae'])} | {_gib(encoders)} | "
        f"{_gib(sum(weights.values()))} | {memory['none'] / 2**30:.1f} | "
        f"{memory['model'] / 2**30:.1f} |"
    )


def test_docs_gpu_tables_are_the_meta_sizes_of_every_family() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "gpu.md").read_text()
    for name in FAMILY_ARCHITECTURES:
        assert _memory_row(name) in text, _memory_row(name)
        configs = architecture_configs(name)
        for component, entry in configs["_published"].items():
            cls = configs["_classes"][component].rpartition(".")[2]
            count = configs["_parameters"][component]
            assert f"| {name} | {component} | {cls} | {count:,} | {entry['published']} |" in text


def test_the_auto_table_decides_from_meta_sizes_before_any_weight() -> None:
    """Wan 2.1 14B in bf16: resident from 43.4 GiB free, model offload from 32.6 GiB."""
    from repvideo_eval.generation.runtime_options import architecture_memory, choose_offload

    memory = architecture_memory("wan2.1-t2v-14b", torch.bfloat16)
    weights = memory["weights"]
    assert weights["transformer"] == 2 * 14_288_491_584
    assert choose_offload(weights, memory["none"]) == "none"
    assert choose_offload(weights, memory["none"] - 1) == "model"
    assert choose_offload(weights, memory["model"]) == "model"
    assert choose_offload(weights, memory["model"] - 1) == "sequential"
