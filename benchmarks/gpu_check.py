"""One command that measures the harness at real scale on a GPU and writes one Markdown report.

    make gpu-check        # CUDA, full size (49x480x720, CogVideoX-2B random twin), <= 8 minutes
    make gpu-check-cpu    # the same script at small sizes on a CPU, to prove it before a GPU

No network: every model is a seeded random twin (repvideo_eval.generation.random_twins), built
on the device in the card's dtype. Sections, in order of importance (each one is timed, a failure
is reported in its section and makes the exit code 1, and a section that would start after the
time budget is reported as skipped):

1. tiny end to end: the tiny twins through the generation worker in two precisions;
2. full size, eager: per-step transformer time with CFG over N steps after a warm-up, VAE decode
   time, and the resulting seconds per 50-step video, for the baseline and RepVideo (same
   weights: RepVideo is applied in place to the baseline's transformer);
3. full size, compiled (torch.compile through the harness's apply_speed_options; the baseline
   is the RepVideo transformer with gates off, which runs the stock loop bit for bit);
4. the harness (sample_video with the worker's prompt cache) against a bare diffusers pipeline
   call with the same settings, interleaved rounds, at full size and on the tiny twin;
5. peak memory per memory option (CUDA allocator high-water mark; CPU: not measured);
6. scoring throughput against vbench (benchmarks/scoring_throughput.py on the same device).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import gc
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from repvideo_eval import registry  # noqa: E402
from repvideo_eval.atomic import write_text_atomic  # noqa: E402
from repvideo_eval.config import MemorySettings, ModelCard, SpeedSettings  # noqa: E402
from repvideo_eval.generation.pipelines import load_pipeline  # noqa: E402
from repvideo_eval.generation.prompt_cache import PromptEmbeddings  # noqa: E402
from repvideo_eval.generation.runtime_options import (  # noqa: E402
    apply_memory_options,
    apply_speed_options,
    resolve_offload,
    weight_bytes,
)

PROMPT = "a red car driving down a coastal road at sunset"
VIDEO_STEPS = 50  # the official sampler's steps: seconds per video = 50 steps + decode
TARGETS = {
    "seconds_per_video_compiled": 30.0,
    "repvideo_over_baseline": 1.01,
    "harness_over_bare": 1.02,
    "default_peak_gib": 24.0,
    "scoring_speedup": 5.0,
}


@dataclasses.dataclass(frozen=True)
class Size:
    """What one run measures at: the video size, the depth of the random twin, the steps."""

    name: str
    num_frames: int
    height: int
    width: int
    overrides: dict[str, dict[str, Any]]
    warmup_steps: int
    timed_steps: int
    harness_steps: int
    harness_rounds: int
    tiny_rounds: int


SIZES = {
    # What users run: CogVideoX-2B at 49x480x720, all 30 blocks, real T5-XXL and VAE.
    "full": Size("full", 49, 480, 720, {}, 1, 5, 3, 2, 5),
    # This CPU: full widths, 2 blocks, 1 T5 layer, 1 VAE layer per block, 5 frames of 64x96.
    "small": Size(
        "small",
        5,
        64,
        96,
        {
            "transformer": {"num_layers": 2},
            "text_encoder": {"num_layers": 1},
            "vae": {"layers_per_block": 1},
        },
        1,
        2,
        1,
        0,  # the CPU comparison is the tiny twin's; full-width rounds would take minutes
        5,
    ),
}


# ------------------------------------------------------------------------------------ helpers


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def free_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def sized_card(
    name: str, size: Size, device: str, cpu_dtype: str | None = None, **fields: Any
) -> ModelCard:
    """A registered card with the sampler resized (and, on CPU, no offload: it needs CUDA, and
    `cpu_dtype`, the dtype this CPU runs fast, instead of the card's)."""
    card = registry.load_card(name)
    sampler = dataclasses.replace(
        card.sampler, num_frames=size.num_frames, height=size.height, width=size.width
    )
    if device.startswith("cuda"):
        return dataclasses.replace(card, sampler=sampler, **fields)
    memory = MemorySettings(vae_tiling=True)
    dtype = cpu_dtype or card.dtype
    return dataclasses.replace(card, sampler=sampler, memory=memory, dtype=dtype, **fields)


def load_random(card: ModelCard, size: Size, device: str) -> Any:
    """load_pipeline for a random card, with the size's depth overrides for small runs."""
    from repvideo_eval.generation import random_twins

    if not size.overrides:
        return load_pipeline(card, device)
    original = random_twins.build_random_components

    def shallow(architecture: str, seed: int, dtype: torch.dtype, where: str, **kwargs: Any):
        return original(architecture, seed, dtype, where, **{**kwargs, "overrides": size.overrides})

    random_twins.build_random_components = shallow
    try:
        return load_pipeline(card, device)
    finally:
        random_twins.build_random_components = original


def pipe_kwargs(pipe: Any, card: ModelCard, steps: int, seed: int = 0) -> dict[str, Any]:
    """The sampler settings as a bare pipeline call takes them (noise from a CPU generator)."""
    s = card.sampler
    return dict(
        num_frames=s.num_frames,
        height=s.height,
        width=s.width,
        num_inference_steps=steps,
        guidance_scale=s.guidance_scale,
        use_dynamic_cfg=s.use_dynamic_cfg,
        generator=torch.Generator(device="cpu").manual_seed(seed),
        max_sequence_length=int(pipe.transformer.config.max_text_seq_length),
    )


def step_times(pipe: Any, card: ModelCard, steps: int, device: str) -> tuple[list[float], Any]:
    """Seconds per denoising step (CFG batch of 2) and the final latents (no decode)."""
    embeddings = PromptEmbeddings(pipe, card.sampler)
    cond = embeddings.conditional(PROMPT)
    marks: list[float] = []

    def mark(pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        sync(device)
        marks.append(time.perf_counter())
        return {}

    kwargs = pipe_kwargs(pipe, card, steps)
    sync(device)
    start = time.perf_counter()
    with torch.inference_mode():
        latents = pipe(
            prompt_embeds=cond,
            negative_prompt_embeds=embeddings.unconditional(cond),
            output_type="latent",
            callback_on_step_end=mark,
            **kwargs,
        ).frames
    edges = [start, *marks]
    return [b - a for a, b in zip(edges, edges[1:])], latents


def decode_seconds(pipe: Any, latents: Any, device: str) -> float:
    sync(device)
    start = time.perf_counter()
    with torch.inference_mode():
        pipe.decode_latents(latents)
    sync(device)
    return time.perf_counter() - start


def measure_generation(
    pipe: Any,
    card: ModelCard,
    size: Size,
    device: str,
    label: str,
    decode: float | None = None,
) -> dict[str, Any]:
    """Per-step time after warm-up, decode time, and seconds per 50-step video. The VAE is the
    same in every variant (never compiled), so later variants pass the first one's `decode`."""
    times, latents = step_times(pipe, card, size.warmup_steps + size.timed_steps, device)
    timed = times[size.warmup_steps :]
    step = statistics.median(timed)
    if decode is None:
        decode = decode_seconds(pipe, latents, device)
    return {
        "label": label,
        "warmup_s": round(sum(times[: size.warmup_steps]), 3),
        "step_s": round(step, 4),
        "step_min_s": round(min(timed), 4),
        "decode_s": round(decode, 3),
        "video_s": round(VIDEO_STEPS * step + decode, 2),
    }


# ----------------------------------------------------------------------------------- sections


def section_tiny(ctx: dict[str, Any]) -> list[str]:
    from repvideo_eval.generation.items import generation_items
    from repvideo_eval.generation.video_io import read_video_frames
    from repvideo_eval.generation.worker import VideoGenerator

    device = ctx["device"]
    if device.startswith("cuda"):
        dtypes: tuple[str, ...] = ("float16", "bfloat16")
    else:  # float32 and the dtype this CPU runs fast (once, if that is float32)
        dtypes = tuple(dict.fromkeys(("float32", ctx["cpu_dtype"])))
    rows = ["| model | dtype | video s | frames | finite |", "|---|---|---:|---|---|"]
    suite = registry.load_suite("smoke")
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as folder:
        for name in ("cogvideox-tiny", "repvideo-tiny"):
            for dtype in dtypes:
                card = dataclasses.replace(registry.load_card(name), dtype=dtype)
                item = generation_items(card, suite, Path(folder))[0]
                worker = VideoGenerator(card.to_dict(), device=device)
                seconds = worker.process(item)["seconds"]
                frames = read_video_frames(Path(item.video_path))
                sidecar = json.loads(Path(item.sidecar_path).read_text())
                ok = bool(frames.size) and sidecar["card_hash"] == card.card_hash
                rows.append(f"| {name} | {dtype} | {seconds:.2f} | {frames.shape} | {ok} |")
                if not ok:
                    raise RuntimeError(f"{name} {dtype}: bad video or sidecar")
    return rows


def section_full_eager(ctx: dict[str, Any]) -> list[str]:
    from repvideo_eval.generation.random_twins import random_learned_gates
    from repvideo_eval.repvideo import apply_repvideo, set_gates

    device, size = ctx["device"], ctx["size"]
    card = sized_card("cogvideox-2b-random", size, device, ctx.get("cpu_dtype"))
    pipe = load_random(card, size, device)
    ctx["pipe"], ctx["card"] = pipe, card
    base = measure_generation(pipe, card, size, device, "baseline eager")
    rep_card = sized_card("repvideo-2b-random", size, device, ctx.get("cpu_dtype"))
    apply_repvideo(pipe.transformer, cache_window=6)
    set_gates(pipe.transformer, random_learned_gates(len(pipe.transformer.transformer_blocks), 0))
    rep = measure_generation(pipe, rep_card, size, device, "RepVideo eager", base["decode_s"])
    ctx["results"]["eager"] = [base, rep]
    ratio = rep["step_s"] / base["step_s"]
    ctx["results"]["repvideo_over_baseline_eager"] = ratio
    configure_off(pipe)
    return generation_table([base, rep]) + [
        "",
        f"RepVideo / baseline per-step time (eager): **{ratio:.3f}** "
        f"(target <= {TARGETS['repvideo_over_baseline']})",
    ]


def configure_off(pipe: Any) -> None:
    from repvideo_eval.repvideo import configure_repvideo

    configure_repvideo(pipe.transformer, gates="off")  # the stock loop, bit for bit


def generation_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| variant | warm-up s | step s (median) | step s (min) | decode s | s per 50-step video |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['warmup_s']} | {r['step_s']} | {r['step_min_s']} | "
            f"{r['decode_s']} | {r['video_s']} |"
        )
    return lines


def harness_vs_bare(pipe: Any, card: ModelCard, steps: int, rounds: int, device: str) -> dict:
    """Interleaved rounds of the harness's sample_video and a bare pipeline call."""
    from repvideo_eval.generation.pipelines import sample_video

    timed_card = dataclasses.replace(
        card, sampler=dataclasses.replace(card.sampler, num_inference_steps=steps)
    )
    embeddings = PromptEmbeddings(pipe, timed_card.sampler)

    def harness() -> None:
        sample_video(pipe, timed_card, PROMPT, 0, embeddings)

    def bare() -> None:
        kwargs = pipe_kwargs(pipe, timed_card, steps)
        with torch.inference_mode():
            pipe(prompt=PROMPT, negative_prompt="", output_type="np", **kwargs)

    # On a CPU shared with other jobs, wall time measures the neighbours; the process's CPU time
    # (all its threads) measures the work. On CUDA, wall time with synchronisation.
    clock = time.perf_counter if device.startswith("cuda") else time.process_time

    def timed(fn: Callable[[], None]) -> float:
        sync(device)
        start = clock()
        fn()
        sync(device)
        return clock() - start

    harness(), bare()  # warm-up (first encodes, allocator, kernels)
    pairs = [(timed(harness), timed(bare)) for _ in range(rounds)]
    h = statistics.median(p[0] for p in pairs)
    b = statistics.median(p[1] for p in pairs)
    clock_name = "wall" if device.startswith("cuda") else "process CPU"
    return {
        "steps": steps,
        "rounds": rounds,
        "harness_s": h,
        "bare_s": b,
        "ratio": h / b,
        "clock": clock_name,
    }


def section_harness(ctx: dict[str, Any]) -> list[str]:
    device, size = ctx["device"], ctx["size"]
    lines = [
        "| model | steps | rounds | harness s/video | bare pipeline s/video | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    tiny_card = registry.load_card("cogvideox-tiny")
    tiny_pipe = load_pipeline(tiny_card, device)
    tiny = harness_vs_bare(
        tiny_pipe, tiny_card, tiny_card.sampler.num_inference_steps, size.tiny_rounds, device
    )
    del tiny_pipe
    results = [("cogvideox-tiny", tiny)]
    if "pipe" in ctx and size.harness_rounds:
        full = harness_vs_bare(
            ctx["pipe"], ctx["card"], size.harness_steps, size.harness_rounds, device
        )
        results.append((f"cogvideox-2b-random ({size.name})", full))
    for name, r in results:
        lines.append(
            f"| {name} | {r['steps']} | {r['rounds']} | {r['harness_s']:.3f} | "
            f"{r['bare_s']:.3f} | **{r['ratio']:.3f}** |"
        )
    ctx["results"]["harness_over_bare"] = {name: r["ratio"] for name, r in results}
    clock = results[0][1]["clock"]
    return lines + [
        "",
        f"{clock} seconds, medians of interleaved rounds after a warm-up of each; "
        f"target: harness / bare <= {TARGETS['harness_over_bare']} per video",
    ]


MEMORY_OPTIONS: tuple[tuple[str, MemorySettings], ...] = (
    ("default (card: tiling + slicing, offload auto)", MemorySettings(True, True, "auto")),
    ("none (no tiling, no offload)", MemorySettings(False, False, "none")),
    ("VAE tiling", MemorySettings(True, False, "none")),
    ("VAE tiling + slicing", MemorySettings(True, True, "none")),
    ("tiling + model offload", MemorySettings(True, True, "model")),
    ("tiling + sequential offload", MemorySettings(True, True, "sequential")),
)


def reset_memory_options(pipe: Any, device: str) -> None:
    pipe.remove_all_hooks()
    pipe.vae.disable_tiling()
    pipe.vae.disable_slicing()
    pipe.to(device)


def section_memory(ctx: dict[str, Any]) -> list[str]:
    device = ctx["device"]
    pipe, card = ctx["pipe"], ctx["card"]
    on_cuda = device.startswith("cuda")
    lines = [
        "| option | offload used | peak allocated GiB | peak reserved GiB | s (1 step + decode) |",
        "|---|---|---:|---:|---:|",
    ]
    pipe.transformer._compiled_call_impl = None  # offload hooks go on the eager module
    components = {n: getattr(pipe, n) for n in ("text_encoder", "transformer", "vae")}
    sizes = weight_bytes(components)
    peaks: dict[str, float] = {}
    for label, memory in MEMORY_OPTIONS:
        if memory.offload in ("model", "sequential") and not on_cuda:
            lines.append(f"| {label} | skipped: needs CUDA | | | |")
            continue
        if not on_cuda and memory.vae_tiling != memory.vae_slicing:
            lines.append(
                f"| {label} | skipped on CPU (no peak to measure; paths run above) | | | |"
            )
            continue
        reset_memory_options(pipe, device)
        free_memory(device)
        offload = resolve_offload(memory, device, sizes)
        apply_memory_options(pipe, memory, device, offload)
        if on_cuda:
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        _, latents = step_times(pipe, card, 1, device)
        decode_seconds(pipe, latents, device)
        seconds = time.perf_counter() - start
        if on_cuda:
            allocated = torch.cuda.max_memory_allocated() / 2**30
            reserved = torch.cuda.max_memory_reserved() / 2**30
            peaks[label] = allocated
            lines.append(
                f"| {label} | {offload} | {allocated:.2f} | {reserved:.2f} | {seconds:.1f} |"
            )
        else:
            lines.append(f"| {label} | {offload} | n/a on CPU | n/a on CPU | {seconds:.1f} |")
        del latents
    ctx.pop("pipe")  # sequential offload leaves weights on the meta device: nothing runs after
    ctx["results"]["peak_gib"] = peaks
    return lines + [
        "",
        "Weights (GiB): "
        + ", ".join(f"{name} {value / 2**30:.2f}" for name, value in sizes.items()),
        f"target: default settings peak < {TARGETS['default_peak_gib']} GiB",
    ]


def section_compiled(ctx: dict[str, Any]) -> list[str]:
    from repvideo_eval.generation.random_twins import random_learned_gates
    from repvideo_eval.repvideo import configure_repvideo, set_gates

    device, size = ctx["device"], ctx["size"]
    pipe, card = ctx["pipe"], ctx["card"]
    speed = SpeedSettings(compile=True)
    rows = []
    # Baseline (gates off = the stock loop), then RepVideo: two compilations of one transformer.
    configure_repvideo(pipe.transformer, gates="off")
    apply_speed_options(pipe, speed, backend=ctx["compile_backend"])
    decode = ctx["results"]["eager"][0]["decode_s"]
    rows.append(
        measure_generation(pipe, card, size, device, "baseline compiled (gates off)", decode)
    )
    set_gates(pipe.transformer, random_learned_gates(len(pipe.transformer.transformer_blocks), 0))
    apply_speed_options(pipe, speed, backend=ctx["compile_backend"])
    rows.append(measure_generation(pipe, card, size, device, "RepVideo compiled", decode))
    ratio = rows[1]["step_s"] / rows[0]["step_s"]
    ctx["results"]["compiled"] = rows
    ctx["results"]["repvideo_over_baseline_compiled"] = ratio
    return generation_table(rows) + [
        "",
        f"compile backend: {ctx['compile_backend']}; RepVideo / baseline per-step (compiled): "
        f"**{ratio:.3f}**; baseline s per video (compiled): **{rows[0]['video_s']}** "
        f"(target <= {TARGETS['seconds_per_video_compiled']} s on an H100/H200)",
    ]


def section_scoring(ctx: dict[str, Any]) -> list[str]:
    device = ctx["device"]
    command = [sys.executable, str(REPO / "benchmarks" / "scoring_throughput.py"), "--device"]
    command.append("cuda" if device.startswith("cuda") else "cpu")
    command += ctx["scoring_args"]
    timeout = max(30.0, ctx["deadline"] - time.perf_counter())
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"scoring_throughput failed:\n{proc.stderr[-2000:]}")
    return ["```", " ".join(command[1:]), proc.stdout.strip()[-6000:], "```"]


# ----------------------------------------------------------------------------- every family

#: The architectures `--families` measures (one per family model; cogvideox-5b is cogvideox-2b's
#: family at another width). Each one's video is its random twin card's sampler, which is the real
#: card's (models/<card>-random.yaml; tests/generation/test_family_random_cards.py keeps them equal).
FAMILY_ARCHITECTURES: tuple[str, ...] = (
    "cogvideox-2b",
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
#: Small size (CPU): full widths, one block of each kind, one layer per VAE block, tiny latents.
SMALL_DEPTH: dict[str, dict[str, Any]] = {
    "CogVideoXTransformer3DModel": {"num_layers": 1},
    "WanTransformer3DModel": {"num_layers": 1},
    "HunyuanVideoTransformer3DModel": {
        "num_layers": 1,
        "num_single_layers": 1,
        "num_refiner_layers": 1,
    },
    "HunyuanVideo15Transformer3DModel": {"num_layers": 1, "num_refiner_layers": 1},
    "LTXVideoTransformer3DModel": {"num_layers": 1},
    "LTX2VideoTransformer3DModel": {"num_layers": 1},
    "MochiTransformer3DModel": {"num_layers": 1},
    "AutoencoderKLCogVideoX": {"layers_per_block": 1},
    "AutoencoderKLWan": {"num_res_blocks": 1},
    "AutoencoderKLHunyuanVideo": {"layers_per_block": 1},
    "AutoencoderKLHunyuanVideo15": {"layers_per_block": 1},
    "AutoencoderKLLTXVideo": {
        "layers_per_block": [1, 1, 1, 1, 1],
        "decoder_layers_per_block": [1, 1, 1, 1, 1],
    },
    "AutoencoderKLLTX2Video": {
        "layers_per_block": [1, 1, 1, 1, 1],
        "decoder_layers_per_block": [1, 1, 1, 1],
    },
    "AutoencoderKLMochi": {"layers_per_block": [1, 1, 1, 1, 1]},
}
SMALL_LATENT = (2, 2, 2)  # latent frames, height, width on a CPU
SMALL_TEXT_TOKENS = 16  # text tokens on a CPU (CogVideoX keeps its fixed 226)
#: Text lengths the pipelines encode to (the transformer's cross-attention sequence).
TEXT_TOKENS = {
    "WanTransformer3DModel": 512,
    "HunyuanVideoTransformer3DModel": 256,
    "HunyuanVideo15Transformer3DModel": 1000,
    "LTXVideoTransformer3DModel": 128,
    "LTX2VideoTransformer3DModel": 1024,
}
#: Audio latent frames LTX-2 denoises with the video (the card's 121 frames at 24 fps: round(121 /
#: 24 s x 16000 Hz / 160 hop / 4) = 126; LTX2Pipeline's audio_num_frames); SMALL_AUDIO_TOKENS on a
#: CPU. The audio VAE and vocoder decode is not measured (the harness discards the audio, but the
#: pipeline still runs them once per video).
AUDIO_TOKENS = {"LTX2VideoTransformer3DModel": 126}
SMALL_AUDIO_TOKENS = 4


def random_card_of(architecture: str) -> ModelCard | None:
    """The registered baseline card with `weights: random:<architecture>` (first by name)."""
    for name in registry.list_models():
        card = registry.load_card(name)
        if card.hub_id == f"random:{architecture}" and card.repvideo is None:
            return card
    return None


def family_video(architecture: str) -> tuple[int, int, int, int, bool, str]:
    """The video a family's card makes: (frames, height, width, steps, negative branch, source),
    from its random twin card's sampler (the real card's)."""
    from repvideo_eval.generation.family_calls import uses_negative_branch

    card = random_card_of(architecture)
    if card is None:
        raise ValueError(
            f"no card has weights random:{architecture}; add models/<card>-random.yaml for it"
        )
    s = card.sampler
    cfg = uses_negative_branch(card)  # HunyuanVideo's embedded guidance runs a batch of 1
    return s.num_frames, s.height, s.width, s.num_inference_steps, cfg, f"card {card.name}"


def latent_geometry(vae: Any) -> tuple[int, int, int]:
    """(channels, temporal ratio, spatial ratio) of a video VAE: from its config where it holds
    them, else the attributes the VAE sets itself (LTX, Mochi), else CogVideoX's block count."""
    config, own = vae.config, vae.__dict__
    channels = config.get("latent_channels") or config["z_dim"]
    temporal = (
        config.get("temporal_compression_ratio")
        or config.get("scale_factor_temporal")
        or own["temporal_compression_ratio"]
    )
    spatial = (
        config.get("spatial_compression_ratio")
        or config.get("scale_factor_spatial")
        or own.get("spatial_compression_ratio")
        or 2 ** (len(config["block_out_channels"]) - 1)
    )
    return int(channels), int(temporal), int(spatial)


def denoiser_inputs(
    transformer: Any,
    batch: int,
    latent: tuple[int, int, int],
    dtype: torch.dtype,
    device: str,
    text_tokens: int | None = None,
    audio_tokens: int | None = None,
) -> dict[str, Any]:
    """One denoising step's inputs for a family's transformer: random latents and text
    embeddings of the shapes its pipeline passes (prompt embeddings are computed once per
    prompt, so the text encoder is not part of a step); LTX-2's audio latents too."""
    kind = type(transformer).__name__
    config = transformer.config
    frames, height, width = latent
    generator = torch.Generator().manual_seed(0)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator).to(device=device, dtype=dtype)

    def ones(length: int) -> torch.Tensor:
        return torch.ones(batch, length, dtype=torch.bool, device=device)

    timestep = torch.full((batch,), 500, dtype=torch.long, device=device)
    video = (batch, config.in_channels, frames, height, width)
    tokens = text_tokens or TEXT_TOKENS.get(kind, 0)
    if kind == "CogVideoXTransformer3DModel":
        length = config.max_text_seq_length
        return {
            "hidden_states": rand(batch, frames, config.in_channels, height, width),
            "encoder_hidden_states": rand(batch, length, config.text_embed_dim),
            "timestep": timestep,
        }
    if kind == "WanTransformer3DModel":
        return {
            "hidden_states": rand(*video),
            "timestep": timestep,
            "encoder_hidden_states": rand(batch, tokens, config.text_dim),
        }
    if kind == "HunyuanVideoTransformer3DModel":
        return {
            "hidden_states": rand(*video),
            "timestep": timestep,
            "encoder_hidden_states": rand(batch, tokens, config.text_embed_dim),
            "encoder_attention_mask": ones(tokens),
            "pooled_projections": rand(batch, config.pooled_projection_dim),
            "guidance": torch.full((batch,), 6000.0, device=device, dtype=dtype),
        }
    if kind == "HunyuanVideo15Transformer3DModel":
        return {
            "hidden_states": rand(*video),
            "timestep": timestep.to(dtype),  # its pipeline passes the latents' dtype
            "encoder_hidden_states": rand(batch, tokens, config.text_embed_dim),
            "encoder_attention_mask": ones(tokens),
            "encoder_hidden_states_2": rand(batch, 256, config.text_embed_2_dim),
            "encoder_attention_mask_2": ones(256),
            "image_embeds": torch.zeros(
                batch, 729, config.image_embed_dim, device=device, dtype=dtype
            ),
        }
    if kind == "LTXVideoTransformer3DModel":
        return {
            "hidden_states": rand(batch, frames * height * width, config.in_channels),
            "encoder_hidden_states": rand(batch, tokens, config.caption_channels),
            "timestep": timestep,
            "encoder_attention_mask": ones(tokens).to(dtype),
            "num_frames": frames,
            "height": height,
            "width": width,
            "rope_interpolation_scale": (8 / 25, 32, 32),
        }
    if kind == "LTX2VideoTransformer3DModel":
        audio = audio_tokens or AUDIO_TOKENS[kind]
        # the connectors' outputs: the width the caption projections take, for both streams
        return {
            "hidden_states": rand(batch, frames * height * width, config.in_channels),
            "audio_hidden_states": rand(batch, audio, config.audio_in_channels),
            "encoder_hidden_states": rand(batch, tokens, config.caption_channels),
            "audio_encoder_hidden_states": rand(batch, tokens, config.caption_channels),
            "timestep": timestep.to(dtype),
            "encoder_attention_mask": ones(tokens).to(dtype),
            "audio_encoder_attention_mask": ones(tokens).to(dtype),
            "num_frames": frames,
            "height": height,
            "width": width,
            "audio_num_frames": audio,
        }
    if kind == "MochiTransformer3DModel":
        length = text_tokens or config.max_sequence_length
        return {
            "hidden_states": rand(*video),
            "encoder_hidden_states": rand(batch, length, config.text_embed_dim),
            "timestep": timestep,
            "encoder_attention_mask": ones(length),
        }
    raise ValueError(f"no step inputs for {kind}")


def measure_family(architecture: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """One family: seconds per denoising step (CFG batch), decode seconds, seconds per video
    (steps x step + decode, extrapolated), peak memory (CUDA). Built fresh, freed after."""
    from repvideo_eval.generation.random_twins import (
        build_empty_component,
        build_random_component,
        component_bytes,
    )

    device, dtype = ctx["device"], ctx["family_dtype"]
    on_cuda = device.startswith("cuda")
    frames, height, width, steps, cfg, source = family_video(architecture)
    overrides: dict[str, dict[str, Any]] = {}
    if not on_cuda:
        for component in ("transformer", "vae"):
            kind = type(build_empty_component(architecture, component)).__name__
            overrides[component] = SMALL_DEPTH[kind]
    sizes = component_bytes(architecture, dtype)
    free_memory(device)
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    transformer = build_random_component(
        architecture, "transformer", 0, dtype, device, overrides.get("transformer")
    )
    vae = build_random_component(architecture, "vae", 0, dtype, device, overrides.get("vae"))
    build_s = time.perf_counter() - start
    channels, temporal, spatial = latent_geometry(vae)
    if on_cuda:
        latent = ((frames - 1) // temporal + 1, height // spatial, width // spatial)
        vae.enable_tiling()
    else:
        latent = SMALL_LATENT
    patch_t = transformer.config.get("patch_size_t") or 1
    latent = (latent[0] + (-latent[0]) % patch_t, latent[1], latent[2])  # pipelines pad to it
    batch = 2 if cfg else 1
    tokens = None if on_cuda else SMALL_TEXT_TOKENS
    audio = None if on_cuda else SMALL_AUDIO_TOKENS
    inputs = denoiser_inputs(transformer, batch, latent, dtype, device, tokens, audio)
    times = []
    with torch.inference_mode():
        for _ in range(ctx["size"].warmup_steps + ctx["family_steps"]):
            sync(device)
            tick = time.perf_counter()
            transformer(**inputs, return_dict=False)
            sync(device)
            times.append(time.perf_counter() - tick)
        step = statistics.median(times[ctx["size"].warmup_steps :])
        del transformer, inputs
        free_memory(device)
        z = torch.randn(1, channels, *latent, generator=torch.Generator().manual_seed(0))
        sync(device)
        tick = time.perf_counter()
        decoded = vae.decode(z.to(device=device, dtype=dtype)).sample
        sync(device)
        decode_s = time.perf_counter() - tick
    shape = tuple(decoded.shape)
    del vae, decoded
    row = {
        "architecture": architecture,
        "video": f"{frames}x{height}x{width}, {steps} steps" if on_cuda else "small",
        "source": source,
        "latent": latent,
        "batch": batch,
        "build_s": round(build_s, 2),
        "step_s": round(step, 4),
        "decode_s": round(decode_s, 3),
        "decoded": shape,
        "video_s": round(steps * step + decode_s, 1),
        "weights_gib": round(sum(sizes.values()) / 2**30, 2),
    }
    if on_cuda:
        row["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    free_memory(device)
    return row


def section_families(ctx: dict[str, Any]) -> list[str]:
    """Every family asked for (--families), each within its share of the budget."""
    on_cuda = ctx["device"].startswith("cuda")
    dtype_name = str(ctx["family_dtype"]).removeprefix("torch.")
    lines = [
        f"dtype {dtype_name}; "
        + (
            "full size: real depth, the card's video, VAE tiling; peak = transformer + VAE "
            "resident (the text encoder runs once per prompt, before)"
            if on_cuda
            else f"small size: full widths, one block, latent {SMALL_LATENT}, "
            f"{SMALL_TEXT_TOKENS} text tokens"
        ),
        "",
        "| architecture | video (source) | latent | batch | step s | decode s | "
        "s per video | weights GiB (all) | peak GiB |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = []
    for architecture in ctx["families"]:
        if ctx["deadline"] - time.perf_counter() <= 0:
            lines.append(f"| {architecture} | skipped: budget spent | | | | | | | |")
            continue
        try:
            row = measure_family(architecture, ctx)
        except Exception as error:  # noqa: BLE001 - one family's failure is reported in its row
            ctx["family_failures"] = ctx.get("family_failures", 0) + 1
            lines.append(
                f"| {architecture} | FAILED: {type(error).__name__}: {error} | | | | | | | |"
            )
            free_memory(ctx["device"])
            continue
        rows.append(row)
        lines.append(
            f"| {architecture} | {row['video']} ({row['source']}) | {row['latent']} | "
            f"{row['batch']} | {row['step_s']} | {row['decode_s']} | {row['video_s']} | "
            f"{row['weights_gib']} | {row.get('peak_gib', 'n/a on CPU')} |"
        )
    ctx["results"]["families"] = rows
    if ctx.get("family_failures"):
        raise RuntimeError(f"{ctx['family_failures']} famil(ies) failed:\n" + "\n".join(lines))
    return lines


def parse_families(text: str) -> list[str]:
    """`all` or comma-separated architecture names of FAMILY_ARCHITECTURES."""
    names = (
        list(FAMILY_ARCHITECTURES) if text.strip() == "all" else [n for n in text.split(",") if n]
    )
    unknown = [n for n in names if n not in FAMILY_ARCHITECTURES]
    if unknown:
        raise ValueError(
            f"unknown families {', '.join(unknown)}; use all or some of: "
            f"{', '.join(FAMILY_ARCHITECTURES)}"
        )
    return names


# ------------------------------------------------------------------------- CPU dtype choice

CPU_DTYPES = ("float32", "bfloat16", "float16")
#: A reduced-precision dtype is chosen over float32 only when its probe time is at most this
#: fraction of float32's: a noisy machine should not swap float32 for a dtype that is merely
#: level with it, and where a dtype is really fast (bfloat16 with avx512_bf16 / AMX) it wins by
#: far more than this margin.
REDUCED_PRECISION_MARGIN = 0.8


def probe_cpu_dtypes(repeats: int = 5) -> dict[str, float]:
    """Median seconds per dtype of a Conv3d 16 -> 128 channels (the VAE's first layer) plus a
    matmul: CPUs differ by 50x between dtypes (float16 without fp16 units runs a Conv3d 14x
    slower than float32 on an AMD EPYC). The dtypes take turns in each round, so a burst of load
    from a neighbour hits all of them alike, and the median ignores a single stalled round."""
    generator = torch.Generator().manual_seed(0)
    conv = torch.nn.Conv3d(16, 128, 3, padding=1)
    x = torch.randn(1, 16, 4, 32, 32, generator=generator)
    a = torch.randn(256, 512, generator=generator)
    inputs = {}
    samples: dict[str, list[float]] = {name: [] for name in CPU_DTYPES}
    with torch.inference_mode():
        for name in CPU_DTYPES:
            dtype = getattr(torch, name)
            # Module.to converts in place: each dtype gets its own copy of the layer.
            inputs[name] = (copy.deepcopy(conv).to(dtype), x.to(dtype), a.to(dtype))
            layer, xd, ad = inputs[name]
            layer(xd), ad @ ad.T  # untimed: kernel selection and JIT happen on the first call
        for _ in range(repeats):
            for name in CPU_DTYPES:
                layer, xd, ad = inputs[name]
                tick = time.perf_counter()
                layer(xd)
                ad @ ad.T
                samples[name].append(time.perf_counter() - tick)
    return {name: statistics.median(values) for name, values in samples.items()}


def fastest_dtype(timings: dict[str, float]) -> str:
    """float32, unless a reduced-precision dtype takes at most REDUCED_PRECISION_MARGIN of its
    time; of those, the fastest (ties: bfloat16, whose range matches float32's)."""
    limit = timings["float32"] * REDUCED_PRECISION_MARGIN
    faster = [name for name in CPU_DTYPES[1:] if timings[name] <= limit]
    if not faster:
        return "float32"
    return min(faster, key=lambda name: (timings[name], CPU_DTYPES.index(name)))


SECTIONS: tuple[tuple[str, str, Callable[[dict[str, Any]], list[str]]], ...] = (
    ("tiny", "Tiny twins end to end", section_tiny),
    ("eager", "Full-size random twin, eager", section_full_eager),
    ("compiled", "Full-size random twin, compiled", section_compiled),
    ("harness", "Harness vs a bare diffusers pipeline call", section_harness),
    ("memory", "Peak memory per memory option", section_memory),
    ("scoring", "Scoring throughput vs vbench", section_scoring),
    ("families", "Every family: seconds per video and peak memory", section_families),
)
#: Sections a plain run does; `--families` adds the families section.
DEFAULT_SECTIONS = ("tiny", "eager", "compiled", "harness", "memory", "scoring")
NEEDS_PIPE = ("compiled", "memory")


def machine_line(device: str) -> str:
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
        total = torch.cuda.get_device_properties(torch.device(device)).total_memory / 2**30
        where = f"{name}, {total:.0f} GiB"
    else:
        where = (
            f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
        )
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return f"{where}; torch {torch.__version__}; load average {load}"


def run(args: argparse.Namespace) -> tuple[str, int]:
    size = SIZES[args.size]
    if args.rounds:
        size = dataclasses.replace(size, harness_rounds=args.rounds, tiny_rounds=args.rounds)
    device = args.device
    on_cuda = device.startswith("cuda")
    started = time.perf_counter()
    ctx: dict[str, Any] = {
        "device": device,
        "size": size,
        "results": {},
        "deadline": started + args.budget_s + args.family_budget_s * len(args.families),
        "compile_backend": args.compile_backend,
        "scoring_args": args.scoring_args.split(),
        "families": args.families,
        "family_steps": 1,
    }
    wanted = [s for s in args.sections.split(",") if s]
    if args.families and "families" not in wanted:
        wanted.append("families")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if on_cuda:
        ctx["family_dtype"] = torch.bfloat16
        dtype_line = "dtype: the card's on CUDA (CogVideoX-2B fp16); families in bfloat16"
    else:
        timings = probe_cpu_dtypes()
        chosen = args.cpu_dtype if args.cpu_dtype != "auto" else fastest_dtype(timings)
        ctx["cpu_dtype"], ctx["family_dtype"] = chosen, getattr(torch, chosen)
        ctx["results"]["cpu_dtype"] = {"used": chosen, "probe_s": timings}
        probe = ", ".join(f"{name} {seconds * 1e3:.1f} ms" for name, seconds in timings.items())
        how = (
            f"chosen by the probe: float32 unless another takes <= {REDUCED_PRECISION_MARGIN:.0%}"
            " of its time"
            if args.cpu_dtype == "auto"
            else "set by --cpu-dtype"
        )
        dtype_line = (
            f"CPU dtype: **{chosen}** ({how}; median Conv3d 16->128 + matmul probe: {probe}), "
            "used instead of the cards' dtype"
        )
    lines = [
        f"# gpu-check ({size.name} size, {device})",
        "",
        f"{stamp}; {machine_line(device)}",
        f"video {size.num_frames}x{size.height}x{size.width}, random twins of CogVideoX-2B "
        f"(overrides: {size.overrides or 'none, full depth'})",
        dtype_line,
        "",
    ]
    failed = 0
    for key, title, section in SECTIONS:
        if key not in wanted:
            continue
        lines += [f"## {title}", ""]
        remaining = ctx["deadline"] - time.perf_counter()
        if remaining <= 0:
            lines += [f"skipped: the {args.budget_s:.0f} s budget was spent", ""]
            continue
        if key in NEEDS_PIPE and "pipe" not in ctx:
            lines += ["skipped: needs the full-size pipeline of the eager section", ""]
            continue
        section_start = time.perf_counter()
        try:
            lines += section(ctx)
        except Exception as error:  # noqa: BLE001 - a report section records any failure
            failed += 1
            lines += ["FAILED:", "```", traceback.format_exc()[-3000:], "```"]
            print(f"gpu-check: section {key} failed: {error}", file=sys.stderr)
        lines += ["", f"({time.perf_counter() - section_start:.1f} s)", ""]
        print("\n".join(lines[-3:]), flush=True)
    ctx.pop("pipe", None)
    free_memory(device)
    total = time.perf_counter() - started
    lines += ["## Summary", "", "```json", json.dumps(ctx["results"], indent=1, default=str), "```"]
    lines += ["", f"total {total:.0f} s; {failed} section(s) failed", ""]
    return "\n".join(lines), failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument(
        "--size", choices=sorted(SIZES), default=None, help="full on CUDA, small on CPU"
    )
    parser.add_argument(
        "--budget-s", type=float, default=None, help="sections start only within it"
    )
    parser.add_argument("--sections", default=",".join(DEFAULT_SECTIONS), help="comma-separated")
    parser.add_argument(
        "--families",
        default="",
        help="architectures to measure one by one (comma-separated, or all): "
        + ", ".join(FAMILY_ARCHITECTURES),
    )
    parser.add_argument(
        "--family-budget-s", type=float, default=None, help="seconds per family (90 on CUDA)"
    )
    parser.add_argument(
        "--cpu-dtype",
        choices=("auto", *CPU_DTYPES),
        default="auto",
        help="dtype on a CPU (auto: the fastest of a probe)",
    )
    parser.add_argument("--compile-backend", default=None, help="inductor (CUDA) / aot_eager (CPU)")
    parser.add_argument("--scoring-args", default="", help="extra scoring_throughput.py arguments")
    parser.add_argument("--rounds", type=int, default=None, help="harness-vs-bare rounds")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "gpu")
    args = parser.parse_args(argv)
    on_cuda = args.device.startswith("cuda")
    if on_cuda and not torch.cuda.is_available():
        print("gpu-check: no CUDA device here; run `make gpu-check-cpu` on a CPU", file=sys.stderr)
        return 2
    try:
        args.families = parse_families(args.families)
    except ValueError as error:
        print(f"gpu-check: {error}", file=sys.stderr)
        return 2
    args.family_budget_s = args.family_budget_s or (90.0 if on_cuda else 30.0)
    args.size = args.size or ("full" if on_cuda else "small")
    args.budget_s = args.budget_s or (450.0 if on_cuda else 540.0)
    args.compile_backend = args.compile_backend or ("inductor" if on_cuda else "aot_eager")
    report, failed = run(args)
    name = f"gpu-check-{args.size}-{args.device.replace(':', '')}-"
    name += datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S") + ".md"
    path = write_text_atomic(args.out / name, report)
    print(report)
    print(f"report: {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
