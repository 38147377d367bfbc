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


def sized_card(name: str, size: Size, device: str, **fields: Any) -> ModelCard:
    """A registered card with the sampler resized (and, on CPU, no offload: it needs CUDA)."""
    card = registry.load_card(name)
    sampler = dataclasses.replace(
        card.sampler, num_frames=size.num_frames, height=size.height, width=size.width
    )
    memory = card.memory if device.startswith("cuda") else MemorySettings(vae_tiling=True)
    return dataclasses.replace(card, sampler=sampler, memory=memory, **fields)


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
    dtypes = ("float16", "bfloat16") if device.startswith("cuda") else ("float32", "bfloat16")
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
    card = sized_card("cogvideox-2b-random", size, device)
    pipe = load_random(card, size, device)
    ctx["pipe"], ctx["card"] = pipe, card
    base = measure_generation(pipe, card, size, device, "baseline eager")
    rep_card = sized_card("repvideo-2b-random", size, device)
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


SECTIONS: tuple[tuple[str, str, Callable[[dict[str, Any]], list[str]]], ...] = (
    ("tiny", "Tiny twins end to end", section_tiny),
    ("eager", "Full-size random twin, eager", section_full_eager),
    ("compiled", "Full-size random twin, compiled", section_compiled),
    ("harness", "Harness vs a bare diffusers pipeline call", section_harness),
    ("memory", "Peak memory per memory option", section_memory),
    ("scoring", "Scoring throughput vs vbench", section_scoring),
)
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
    started = time.perf_counter()
    ctx: dict[str, Any] = {
        "device": device,
        "size": size,
        "results": {},
        "deadline": started + args.budget_s,
        "compile_backend": args.compile_backend,
        "scoring_args": args.scoring_args.split(),
    }
    wanted = [s for s in args.sections.split(",") if s]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# gpu-check ({size.name} size, {device})",
        "",
        f"{stamp}; {machine_line(device)}",
        f"video {size.num_frames}x{size.height}x{size.width}, random twins of CogVideoX-2B "
        f"(overrides: {size.overrides or 'none, full depth'}), fp16 on CUDA / card dtype on CPU",
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
    parser.add_argument(
        "--sections", default=",".join(key for key, _, _ in SECTIONS), help="comma-separated"
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
