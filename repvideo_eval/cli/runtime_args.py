"""Flag blocks shared by several commands, each defined once.

- Scoring flags (`run`, `ablate`, `score`): device, VBench weight cache, detector, progress, Ray.
- The VBench weight cache flag alone (`fetch-weights` too).
- Memory and speed flags (`run`, `ablate`): they override every card of the run. A flag that
  changes numbers (VAE tiling, compile, attention backend, TF32) changes the card hash, so its
  videos land in their own folder; slicing and offload only change where memory goes.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repvideo_eval.config import ATTENTION_BACKENDS, OFFLOAD_MODES, ModelCard
from repvideo_eval.scoring.decode import DEFAULT_MAX_VIDEO_PIXELS
from repvideo_eval.vocabulary import (
    AUTO,
    DEFAULT_DETECTOR,
    DEFAULT_DEVICE,
    DETECTOR_CHOICES,
    DEVICE_HELP,
)

if TYPE_CHECKING:
    from repvideo_eval.distributed.types import Resources

ON_OFF = ("on", "off")


def add_vbench_cache_argument(parser: argparse.ArgumentParser, *, old_name: bool = False) -> None:
    """`--vbench-cache-dir` (dest `vbench_cache_dir`); `old_name` also accepts `--cache-dir`."""
    names = ("--vbench-cache-dir", "--cache-dir") if old_name else ("--vbench-cache-dir",)
    parser.add_argument(
        *names,
        dest="vbench_cache_dir",
        type=Path,
        default=None,
        help="VBench weight cache (default $VBENCH_CACHE_DIR or ~/.cache/vbench)"
        + ("; --cache-dir is the same flag under its old name" if old_name else ""),
    )


def add_scoring_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of every command that scores on Ray workers: `run`, `ablate` and `score`."""
    from repvideo_eval.distributed.cli_args import add_ray_arguments

    parser.add_argument("--device", default=DEFAULT_DEVICE, help=DEVICE_HELP)
    add_vbench_cache_argument(parser)
    parser.add_argument(
        "--detector",
        choices=DETECTOR_CHOICES,
        default=AUTO,
        help="backend of object_class, multiple_objects, color and spatial_relationship: grit-torch "
        "(VBench's GRiT in plain PyTorch), grit-detectron2 (vbench's own code, needs detectron2) or "
        f"owlv2 (not comparable with VBench); auto: $REPVIDEO_EVAL_DETECTOR, else {DEFAULT_DETECTOR}",
    )
    parser.add_argument(
        "--max-video-pixels",
        type=positive_int,
        default=DEFAULT_MAX_VIDEO_PIXELS,
        metavar="N",
        help="the most pixels (frames x height x width) one video may decode to; a larger video is "
        f"an error row, not gigabytes of frames (default {DEFAULT_MAX_VIDEO_PIXELS:,}: 768 MiB of RGB)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_ray_arguments(parser)


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (argparse turns the ValueError into one usage line)."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def scoring_resources(args: argparse.Namespace) -> Resources:
    """The Ray resources of the flags; `--device cpu` keeps every worker off the GPUs."""
    from repvideo_eval.distributed.cli_args import resources_from_args

    resources = resources_from_args(args)
    if args.device == "cpu" and resources.num_gpus is None:
        resources = dataclasses.replace(resources, num_gpus=0)  # CPU workers must not hold GPUs
    return resources


def add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("memory and speed (default: each card's; see docs/gpu.md)")
    group.add_argument("--vae-tiling", choices=ON_OFF, default=None, help="tiled VAE decoding")
    group.add_argument("--vae-slicing", choices=ON_OFF, default=None, help="sliced VAE decoding")
    group.add_argument(
        "--offload",
        choices=OFFLOAD_MODES,
        default=None,
        help="CPU offload: none, model, sequential, or auto (picked from free GPU memory)",
    )
    group.add_argument(
        "--compile", choices=ON_OFF, default=None, help="torch.compile the transformer"
    )
    group.add_argument(
        "--attention",
        choices=ATTENTION_BACKENDS,
        default=None,
        help="scaled-dot-product attention backend (default: torch chooses)",
    )
    group.add_argument("--tf32", choices=ON_OFF, default=None, help="TF32 matmuls on CUDA")


def _flag(value: str | None) -> bool | None:
    return None if value is None else value == "on"


def apply_runtime_arguments(
    cards: tuple[ModelCard, ...], args: argparse.Namespace
) -> tuple[ModelCard, ...]:
    """The cards with the flags that were given replacing their memory and speed settings."""
    given_memory: dict[str, Any] = {
        "vae_tiling": _flag(getattr(args, "vae_tiling", None)),
        "vae_slicing": _flag(getattr(args, "vae_slicing", None)),
        "offload": getattr(args, "offload", None),
    }
    given_speed: dict[str, Any] = {
        "compile": _flag(getattr(args, "compile", None)),
        "attention": getattr(args, "attention", None),
        "tf32": _flag(getattr(args, "tf32", None)),
    }
    memory = {k: v for k, v in given_memory.items() if v is not None}
    speed = {k: v for k, v in given_speed.items() if v is not None}
    if not memory and not speed:
        return cards
    return tuple(
        dataclasses.replace(
            card,
            memory=dataclasses.replace(card.memory, **memory),
            speed=dataclasses.replace(card.speed, **speed),
        )
        for card in cards
    )
