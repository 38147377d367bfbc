"""Memory and speed flags shared by `run` and `ablate`: they override every card of the run.

A flag that changes numbers (VAE tiling, compile, attention backend, TF32) changes the card hash,
so its videos land in their own folder; slicing and offload only change where memory goes.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from repvideo_eval.config import ATTENTION_BACKENDS, OFFLOAD_MODES, ModelCard

ON_OFF = ("on", "off")


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
