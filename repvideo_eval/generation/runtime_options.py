"""Memory and speed options of a loaded pipeline: what the card asks for, applied and recorded.

Memory: VAE tiling (changes pixels, so it is in the card hash), VAE slicing, model or sequential
CPU offload, and ``auto``, which picks the offload mode from the GPU's free memory by the table
in ``choose_offload`` (docs/gpu.md prints it per family, from ``architecture_memory``). ``auto`` never switches
tiling: that would change the videos of a card from one GPU to the next.

Speed: ``torch.compile`` of the transformer, the scaled-dot-product attention backend, and TF32
matmuls. All three can change numbers and are in the card hash (config.SpeedSettings).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from repvideo_eval.config import MemorySettings, SpeedSettings
from repvideo_eval.errors import UserError

GIB = 1024**3
#: Activations kept free on top of the resident weights for one 49x480x720 video with CFG and a
#: tiled VAE decode (transformer ~2 GiB at batch 2, tiled decode ~3 GiB, plus allocator slack).
#: An estimate until `make gpu-check` has measured the peaks per option on a GPU.
ACTIVATION_RESERVE_BYTES = 6 * GIB
OFFLOADABLE = ("text_encoder", "transformer", "vae")


def weight_bytes(modules: dict[str, torch.nn.Module]) -> dict[str, int]:
    """Bytes of parameters and buffers per component (works on meta modules too)."""
    sizes: dict[str, int] = {}
    for name, module in modules.items():
        tensors = list(module.parameters()) + list(module.buffers())
        sizes[name] = sum(t.numel() * t.element_size() for t in tensors)
    return sizes


def pipeline_weight_bytes(pipe: Any) -> dict[str, int]:
    """Bytes per module component of a loaded pipeline: every one, so a second transformer
    (Wan 2.2 A14B) or text encoder (HunyuanVideo, HunyuanVideo 1.5) counts toward `auto`."""
    modules = {n: c for n, c in pipe.components.items() if isinstance(c, torch.nn.Module)}
    return weight_bytes(modules)


def choose_offload(
    component_bytes: dict[str, int], free_bytes: int, reserve: int = ACTIVATION_RESERVE_BYTES
) -> str:
    """The `auto` table: keep everything resident if it fits with the reserve, else keep one
    component at a time (model offload), else stream submodules (sequential offload)."""
    thresholds = offload_thresholds(component_bytes, reserve)
    if thresholds["none"] <= free_bytes:
        return "none"
    if thresholds["model"] <= free_bytes:
        return "model"
    return "sequential"


def offload_thresholds(
    component_bytes: dict[str, int], reserve: int = ACTIVATION_RESERVE_BYTES
) -> dict[str, int]:
    """The free memory from which `auto` picks each mode (below the `model` one: sequential)."""
    return {
        "none": sum(component_bytes.values()) + reserve,
        "model": max(component_bytes.values(), default=0) + reserve,
    }


def architecture_memory(architecture: str, dtype: torch.dtype) -> dict[str, Any]:
    """Weights per component and the `auto` thresholds of a full-size architecture, from its
    meta sizes (no weight needed): the rows of docs/gpu.md's table per family."""
    from repvideo_eval.generation.random_twins import component_bytes

    sizes = component_bytes(architecture, dtype)
    return {"weights": sizes, **offload_thresholds(sizes)}


def cuda_free_bytes(device: str) -> int:
    free, _total = torch.cuda.mem_get_info(torch.device(device))
    return int(free)


def check_offload_device(memory: MemorySettings, device: str) -> None:
    """Offloading moves weights between the host and a GPU: refuse it anywhere else."""
    if memory.offload in ("model", "sequential") and not device.startswith("cuda"):
        raise UserError(
            f"CPU offload ({memory.offload}) needs a CUDA device, not {device!r}",
            "Set memory.offload to none (or auto) in the card, or pass --offload none.",
        )


def resolve_offload(
    memory: MemorySettings, device: str, component_bytes: dict[str, int] | None = None
) -> str:
    """The offload mode to use on `device` (`auto` resolved; CPU devices never offload)."""
    check_offload_device(memory, device)
    if memory.offload != "auto":
        return memory.offload
    if not device.startswith("cuda"):
        return "none"
    if component_bytes is None:
        raise ValueError("offload 'auto' needs the pipeline's component sizes")
    return choose_offload(component_bytes, cuda_free_bytes(device))


def apply_memory_options(pipe: Any, memory: MemorySettings, device: str, offload: str) -> None:
    """Enable tiling/slicing on the VAE and the resolved offload mode on the pipeline."""
    if memory.vae_tiling:
        pipe.vae.enable_tiling()
    if memory.vae_slicing:
        pipe.vae.enable_slicing()
    if offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)


def _tiled_length(
    latent: int, tile_latent: int, tile_sample: int, factor: float, scale: int
) -> int:
    """Pixels diffusers' CogVideoX tiled decode returns along one axis (it never crops the sum);
    HunyuanVideo 1.5's VAE decodes tiles the same way."""
    overlap = int(tile_latent * (1 - factor))
    limit = tile_sample - int(tile_sample * factor)
    return sum(
        min(limit, (min(start + tile_latent, latent) - start) * scale)
        for start in range(0, latent, overlap)
    )


def _overlap_factor(vae: Any, axis: str) -> float:
    value = getattr(vae, f"tile_overlap_factor_{axis}", None)
    return float(vae.tile_overlap_factor if value is None else value)


def tiled_decode_size(vae: Any, latent_height: int, latent_width: int) -> tuple[int, int]:
    """(height, width) of a decoded frame with the VAE's current tiling settings. CogVideoX's
    VAE has an overlap factor per axis, HunyuanVideo 1.5's one `tile_overlap_factor` for both."""
    scale = 2 ** (len(vae.config.block_out_channels) - 1)
    tiles = latent_height > vae.tile_latent_min_height or latent_width > vae.tile_latent_min_width
    if not (vae.use_tiling and tiles):
        return latent_height * scale, latent_width * scale
    return (
        _tiled_length(
            latent_height,
            vae.tile_latent_min_height,
            vae.tile_sample_min_height,
            _overlap_factor(vae, "height"),
            scale,
        ),
        _tiled_length(
            latent_width,
            vae.tile_latent_min_width,
            vae.tile_sample_min_width,
            _overlap_factor(vae, "width"),
            scale,
        ),
    )


def check_tiled_size(vae: Any, height: int, width: int) -> None:
    """Tiled decoding only adds up to the frame size for some sizes (480x720 is one): refuse
    the others instead of writing videos of the wrong size. Only VAEs that tile by overlap
    factor (CogVideoX, HunyuanVideo 1.5) need it: the stride-tiling ones (HunyuanVideo, Mochi,
    Wan, LTX) crop their tiled decode to the frame size and have no latent tile size."""
    if not hasattr(vae, "tile_latent_min_height"):
        return
    scale = 2 ** (len(vae.config.block_out_channels) - 1)
    got = tiled_decode_size(vae, height // scale, width // scale)
    if got != (height, width):
        raise UserError(
            f"VAE tiling decodes {height}x{width} videos as {got[0]}x{got[1]} "
            f"(tiles of {vae.tile_sample_min_height}x{vae.tile_sample_min_width} pixels)",
            "Turn tiling off for this size (memory.vae_tiling: false or --vae-tiling off).",
        )


def apply_speed_options(pipe: Any, speed: SpeedSettings, backend: str = "inductor") -> None:
    """TF32 for matmuls (process-wide, set either way) and torch.compile of the transformer.

    The RepVideo block loop reads its gates once per forward to skip zero gates; under compile
    that read would break the graph, so the plan is frozen first (repvideo.gates). `backend` is
    for benchmarks on CPUs (aot_eager); the harness always compiles with inductor.
    """
    torch.backends.cuda.matmul.allow_tf32 = bool(speed.tf32)
    if speed.compile:
        from repvideo_eval.repvideo.apply import is_repvideo
        from repvideo_eval.repvideo.gates import freeze_mixing_plan

        transformer = pipe.transformer
        if is_repvideo(transformer):
            freeze_mixing_plan(pipe.transformer)
        pipe.transformer.compile(backend=backend, dynamic=False)


_SDPA_BACKENDS = {
    "flash": "FLASH_ATTENTION",
    "efficient": "EFFICIENT_ATTENTION",
    "cudnn": "CUDNN_ATTENTION",
    "math": "MATH",
}


@contextlib.contextmanager
def attention_backend(name: str) -> Iterator[None]:
    """Restrict scaled-dot-product attention to one backend ("default": torch chooses)."""
    if name == "default":
        yield
        return
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(getattr(SDPBackend, _SDPA_BACKENDS[name])):
        yield


def runtime_record(memory: MemorySettings, speed: SpeedSettings, offload: str) -> dict[str, Any]:
    """What a sidecar records: every option, with `auto` resolved."""
    return {
        "memory": {
            "vae_tiling": bool(memory.vae_tiling),
            "vae_slicing": bool(memory.vae_slicing),
            "offload": offload,
            "offload_requested": memory.offload,
        },
        "speed": {
            "compile": bool(speed.compile),
            "attention": speed.attention,
            "tf32": bool(speed.tf32),
        },
    }
