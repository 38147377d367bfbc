"""Checks that run before any work, so a real model never fails an hour into a run.

A real (non-tiny) model needs CUDA and weights that are either local or downloadable; when either is
missing the user gets one line that says what is missing and what to do instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from repvideo_eval.config import ModelCard
from repvideo_eval.errors import UserError
from repvideo_eval.families import FAMILIES
from repvideo_eval.vocabulary import AUTO


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def weights_available_locally(repo_or_path: str) -> bool:
    """True when `repo_or_path` is a local folder or a complete snapshot in the Hugging Face cache."""
    if Path(repo_or_path).expanduser().is_dir():
        return True
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(repo_or_path, local_files_only=True)
    except Exception:  # noqa: BLE001 - any failure means "not in the local cache"
        return False
    return True


def hub_reachable(timeout_s: float = 5.0) -> bool:
    if hub_offline():
        return False
    import socket

    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def check_repvideo_supported(card: ModelCard) -> None:
    """A `repvideo:` block needs an adapter for the family's transformer class (registered by
    class name in repvideo.apply), checked before any model loads."""
    if card.repvideo is None:
        return
    from repvideo_eval.repvideo.apply import supported_classes

    transformer = FAMILIES[card.family].transformer
    supported = supported_classes()
    if transformer not in supported:
        raise UserError(
            f"model card {card.name}: RepVideo cannot wrap {transformer} (family {card.family})",
            f"Remove its repvideo block, or use a family whose transformer RepVideo wraps "
            f"({', '.join(supported)}).",
        )


def check_model_can_run(
    card: ModelCard, device: str, *, cuda_available: bool | None = None
) -> None:
    """Raise UserError when `card` cannot run here; tiny cards can when RepVideo wraps them."""
    check_repvideo_supported(card)
    if card.is_tiny:
        return
    twin = f" or try its tiny twin offline: --model {card.twin}" if card.twin else ""
    if cuda_available is None:
        cuda_available = torch.cuda.is_available()
    if not device.startswith("cuda") and device != AUTO:
        raise UserError(
            f"{card.name} is a real {card.dtype} model and --device {device} is not a CUDA device",
            f"Run it with --device cuda on a GPU machine{twin}.",
        )
    if not cuda_available:
        raise UserError(
            f"{card.name} needs a CUDA GPU and this machine has none",
            f"Run it on a GPU machine{twin}.",
        )
    if card.is_random:  # seeded weights made on the GPU: nothing to download
        return
    missing = [
        repo
        for repo in (card.hub_id, card.transformer_weights)
        if repo and not weights_available_locally(repo)
    ]
    if missing and not hub_reachable():
        repo = missing[0]
        raise UserError(
            f"weights {repo} for {card.name} are neither local nor reachable (Hugging Face Hub is offline)",
            f"On a machine with network run `huggingface-cli download {repo}` and copy the cache "
            f"(~/.cache/huggingface, or set HF_HOME) here{twin}.",
        )
