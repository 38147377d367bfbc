"""RepVideo's cost over the stock transformer: time and peak extra activation memory.

Three variants of the same CogVideoX transformer forward, measured side by side in one run:

- ``baseline``: the stock diffusers forward;
- ``repvideo``: this project's loop (running sum + count per stream, gates 0.5, window 6);
- ``official``: the official code's form, a Python list of up to six cached outputs of the
  concatenated text+video sequence averaged with ``torch.mean(torch.stack(cache))``.

Time: rounds of (baseline, repvideo, official) interleaved after warm-up; medians and ratios.
On CPU the script runs torch with one thread (``--threads``) and times the CPU time of that
thread (``time.thread_time``) as well as wall time: on a shared machine other processes' load
inflates wall time at random, while the computing thread's CPU time stays comparable. The ratio
column uses CPU time on CPU and wall time (with synchronisation) on CUDA.
Because the whole-forward ratio is only as precise as the machine is quiet, the script also
times the loop's bookkeeping alone (cache updates and mixes, with identity blocks, many
repetitions) and reports it as a fraction of the baseline forward: a low-noise estimate of the
same overhead.

Memory: on CUDA, ``torch.cuda.max_memory_allocated`` around one forward, minus what was
allocated before it. On CPU there is no allocator high-water mark, so the script replays the
PyTorch profiler's per-op allocation and free events (``profile_memory=True``) in time order
and takes the peak of the running total: the peak of live tensor bytes during the forward, not
process RSS. Extra memory is given in "hidden-state buffers": bytes of one copy of the video and
text streams (batch x tokens x hidden x dtype size); the target is <= 1 such buffer.

    .venv/bin/python benchmarks/repvideo_overhead.py                 # CPU, hidden 1920, 8 blocks
    .venv/bin/python benchmarks/repvideo_overhead.py --device cuda --layers 30 --frames 13 --height 60 --width 90
"""

from __future__ import annotations

import argparse
import copy
import platform
import statistics
import time
from collections.abc import Callable

import torch
from diffusers import CogVideoXTransformer3DModel

from repvideo_eval.repvideo import apply_repvideo
from repvideo_eval.repvideo.block_loop import RunBlock, Streams, run_stock_blocks, take


def official_list_loop(model: torch.nn.Module) -> None:
    """Give a RepVideo model the official list-of-six + stack-mean loop (for comparison only)."""

    def loop(blocks, owned: list[torch.Tensor], run_block: RunBlock) -> Streams:
        video, text = take(owned)
        text_len = text.shape[1]
        h = torch.cat([text, video], dim=1)
        del video, text
        cache = [h]
        gates = model.repvideo_gates
        window = model.repvideo_cache_window
        for i, block in enumerate(blocks):
            agg = torch.mean(torch.stack(cache), dim=0) if len(cache) > 1 else cache[0]
            h = gates[i] * agg + (1 - gates[i]) * h
            video, text = run_block(i, block, (h[:, text_len:], h[:, :text_len]))
            h = torch.cat([text, video], dim=1)
            cache = [h] if i % window == 0 else cache + [h]
        return h[:, text_len:], h[:, :text_len]

    model.repvideo_block_loop = loop


def bookkeeping_seconds(
    models: dict[str, torch.nn.Module], inputs: dict, device: str, reps: int
) -> dict[str, float]:
    """Median time of each variant's block loop with identity blocks (cache and mix work only)."""
    model = models["repvideo"]
    with torch.no_grad():
        embedded = model.patch_embed(inputs["encoder_hidden_states"], inputs["hidden_states"])
    text_len = inputs["encoder_hidden_states"].shape[1]
    identity_blocks = [torch.nn.Identity() for _ in model.transformer_blocks]

    def identity(i: int, block: torch.nn.Module, streams: Streams) -> Streams:
        return tuple(s.clone() for s in streams)  # a block returns fresh tensors

    loops = {
        "baseline": lambda owned: run_stock_blocks(identity_blocks, owned, identity),
        "repvideo": lambda owned: model.repvideo_block_loop(identity_blocks, owned, identity),
        "official": lambda owned: models["official"].repvideo_block_loop(
            identity_blocks, owned, identity
        ),
    }
    clock = time.perf_counter if device.startswith("cuda") else time.thread_time
    result = {}
    with torch.no_grad():
        for name, loop in loops.items():
            samples = []
            for _ in range(reps):
                owned = [embedded[:, text_len:].clone(), embedded[:, :text_len].clone()]
                sync(device)
                start = clock()
                loop(owned)
                sync(device)
                samples.append(clock() - start)
            result[name] = statistics.median(samples)
    return result


def build_models(args: argparse.Namespace, dtype: torch.dtype) -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    config = dict(
        num_attention_heads=args.hidden // 64,
        attention_head_dim=64,
        num_layers=args.layers,
        sample_height=args.height,
        sample_width=args.width,
        sample_frames=(args.frames - 1) * 4 + 1,
        max_text_seq_length=args.text_len,
    )
    baseline = CogVideoXTransformer3DModel(**config).to(args.device, dtype).eval()
    repvideo = apply_repvideo(copy.deepcopy(baseline))
    official = apply_repvideo(copy.deepcopy(baseline))
    official_list_loop(official)
    return {"baseline": baseline, "repvideo": repvideo, "official": official}


def make_inputs(args: argparse.Namespace, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return {
        "hidden_states": torch.randn(
            args.batch, args.frames, 16, args.height, args.width, generator=gen
        ).to(args.device, dtype),
        "encoder_hidden_states": torch.randn(args.batch, args.text_len, 4096, generator=gen).to(
            args.device, dtype
        ),
        "timestep": torch.full((args.batch,), 500, device=args.device),
    }


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_extra_bytes(forward: Callable[[], object], device: str) -> int:
    """Peak bytes allocated during one forward beyond what was live before it."""
    if device.startswith("cuda"):
        sync(device)
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        forward()
        sync(device)
        return torch.cuda.max_memory_allocated() - before
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        forward()
    live = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        live += event.self_cpu_memory_usage
        peak = max(peak, live)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--dtype",
        default=None,
        help="float32 (CPU default) or float16/bfloat16 (CUDA default fp16)",
    )
    parser.add_argument("--hidden", type=int, default=1920)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--frames", type=int, default=2, help="latent frames")
    parser.add_argument("--height", type=int, default=16, help="latent height")
    parser.add_argument("--width", type=int, default=16, help="latent width")
    parser.add_argument("--text-len", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--bookkeeping-reps", type=int, default=200)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (CPU timing uses this thread's CPU time)",
    )
    args = parser.parse_args()
    dtype = (
        getattr(torch, args.dtype)
        if args.dtype
        else (torch.float16 if args.device.startswith("cuda") else torch.float32)
    )
    on_cuda = args.device.startswith("cuda")
    if not on_cuda:
        torch.set_num_threads(args.threads)

    models = build_models(args, dtype)
    inputs = make_inputs(args, dtype)
    video_tokens = args.frames * (args.height // 2) * (args.width // 2)
    buffer_bytes = (
        args.batch * (video_tokens + args.text_len) * args.hidden * torch.finfo(dtype).bits // 8
    )

    with torch.no_grad():
        outs = {name: model(**inputs).sample for name, model in models.items()}  # warm-up
        wall: dict[str, list[float]] = {name: [] for name in models}
        cpu: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(args.rounds):
            for name, model in models.items():
                sync(args.device)
                start, start_cpu = time.perf_counter(), time.thread_time()
                model(**inputs)
                sync(args.device)
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(time.thread_time() - start_cpu)
        times = wall if on_cuda else cpu
        memory = {
            name: peak_extra_bytes(lambda m=model: m(**inputs), args.device)
            for name, model in models.items()
        }
    bookkeeping = bookkeeping_seconds(models, inputs, args.device, reps=args.bookkeeping_reps)

    agree = (outs["repvideo"].float() - outs["official"].float()).abs().max().item()
    print(
        f"# repvideo_overhead  device={args.device} ({platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads)  dtype={str(dtype).removeprefix('torch.')}  torch {torch.__version__}"
    )
    print(
        f"# model: hidden {args.hidden}, {args.layers} blocks, window 6, gates 0.5; batch {args.batch}, "
        f"{video_tokens} video + {args.text_len} text tokens; one hidden-state buffer = {buffer_bytes / 2**20:.2f} MiB"
    )
    print(
        f"# memory: {'torch.cuda.max_memory_allocated' if args.device.startswith('cuda') else 'profiler allocation events (peak live tensor bytes)'}"
    )
    print(f"# max |repvideo - official| = {agree:.3g}")
    print(
        f"# {args.rounds} interleaved rounds; time ratio / min ratio: median / fastest {'wall' if on_cuda else 'thread CPU'} time"
    )
    base_t = statistics.median(times["baseline"])
    base_w = statistics.median(wall["baseline"])
    base_m = memory["baseline"]
    base_min = min(times["baseline"])
    print(
        f"{'variant':<10} {'wall s':>8} {'cpu s':>8} {'wall ratio':>10} {'time ratio':>10} {'min ratio':>9} "
        f"{'peak MiB':>9} {'extra buffers':>13}"
    )
    for name in models:
        t, w = statistics.median(times[name]), statistics.median(wall[name])
        extra = (memory[name] - base_m) / buffer_bytes
        print(
            f"{name:<10} {w:8.4f} {statistics.median(cpu[name]):8.4f} {w / base_w:10.3f} {t / base_t:10.3f} "
            f"{min(times[name]) / base_min:9.3f} {memory[name] / 2**20:9.1f} {extra:13.2f}"
        )
    print(
        "# bookkeeping alone (identity blocks, median of repetitions), as a fraction of the baseline forward:"
    )
    for name in ("repvideo", "official"):
        extra_s = bookkeeping[name] - bookkeeping["baseline"]
        print(
            f"{name:<10} +{extra_s * 1e3:.3f} ms per forward -> estimated time ratio {(base_t + extra_s) / base_t:.4f}"
        )


if __name__ == "__main__":
    main()
