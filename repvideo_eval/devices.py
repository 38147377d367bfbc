"""The one device resolver: what `--device auto|cpu|cuda[:N]` means on this machine.

Every worker (generation, static filter, scoring) and every command resolves its device here,
so `auto` means the same everywhere and a CUDA device on a machine without one is a user error
before any model is built.
"""

from __future__ import annotations

from repvideo_eval.errors import UserError
from repvideo_eval.vocabulary import AUTO


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when present, else cpu; a CUDA device on a machine without one, or a name
    that is neither cpu nor cuda[:N], is a UserError."""
    import torch

    if device == AUTO:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(
            f"--device {device} but this machine has no CUDA GPU",
            "Use --device cpu (tiny models) or a GPU machine.",
        )
    if not (device == "cpu" or device.startswith("cuda")):
        raise UserError(f"unknown --device {device!r}", "Use auto, cuda, cuda:N or cpu.")
    return device
