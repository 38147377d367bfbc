"""What every RepVideo-converted transformer carries, whatever its family.

A converted model is the same object with its class swapped for a thin subclass (one per
family) whose ``forward`` runs the RepVideo block loop. It carries:

- ``repvideo_gates``: ONE ``torch.nn.Parameter`` of shape ``(num_layers,)`` (official layout),
- ``repvideo_cache_window``: the cache size (official: 6),
- ``repvideo_enabled``: False runs the stock loop (ablation "off"), bit for bit.

``save_pretrained`` writes a stock diffusers folder (loadable by the stock class as a plain,
RepVideo-less model) plus ``repvideo.safetensors`` holding the gates and the settings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from repvideo_eval.atomic import write_with_atomic
from repvideo_eval.repvideo.block_loop import (
    RunBlock,
    Streams,
    run_repvideo_blocks,
    run_stock_blocks,
)

try:  # LoRA scaling of attention_kwargs, as the stock forwards do (diffusers >= 0.36).
    from diffusers.utils import apply_lora_scale
except ImportError:  # pragma: no cover - older diffusers

    def apply_lora_scale(kwargs_name: str) -> Any:
        return lambda fn: fn


GATES_FILE = "repvideo.safetensors"
GATES_KEY = "gates"
FORMAT_VERSION = "1"


class RepVideoMixin:
    """Shared behaviour of the per-family RepVideo subclasses (put first in the bases)."""

    #: Short family name written next to the gates (``adapters.Adapter.family``).
    repvideo_family: ClassVar[str]
    #: The stock diffusers class this subclass extends; saved folders name it.
    repvideo_base_class: ClassVar[type[Any]]

    repvideo_gates: torch.nn.Parameter
    repvideo_cache_window: int
    repvideo_enabled: bool
    #: set by ``gates.freeze_mixing_plan`` before torch.compile (None: read the gates each call)
    repvideo_frozen_plan: tuple[bool, ...] | None = None

    #: the stock block list of most families (Wan and HunyuanVideo override repvideo_blocks)
    transformer_blocks: torch.nn.ModuleList

    def repvideo_blocks(self) -> list[torch.nn.Module]:
        """The blocks of the loop in the order they run: one gate each (official layout).

        Most families run one list, ``transformer_blocks``; the others override this.
        """
        return list(self.transformer_blocks)

    def repvideo_block_loop(
        self, blocks: Any, streams: list[torch.Tensor], run_block: RunBlock
    ) -> Streams:
        """Run the blocks with the cross-layer mix, or the stock loop when RepVideo is off.

        ``streams`` is emptied: the loop owns the embedded hidden states (see block_loop.take).
        """
        if not self.repvideo_enabled:
            return run_stock_blocks(blocks, streams, run_block)
        plan = None
        training_gates = torch.is_grad_enabled() and self.repvideo_gates.requires_grad
        if torch.compiler.is_compiling() and not training_gates:
            plan = self.repvideo_frozen_plan  # reading gate values would break the graph
        return run_repvideo_blocks(
            blocks, streams, run_block, self.repvideo_gates, self.repvideo_cache_window, plan
        )

    def save_pretrained(self, save_directory: str | os.PathLike[str], **kwargs: Any) -> None:
        """Save a stock diffusers folder plus ``repvideo.safetensors`` (gates and settings)."""
        model: Any = self
        gates = model._parameters.pop("repvideo_gates")
        subclass = model.__class__
        try:
            model.__class__ = self.repvideo_base_class
            model.save_pretrained(save_directory, **kwargs)
        finally:
            model.__class__ = subclass
            model._parameters["repvideo_gates"] = gates
        if kwargs.get("is_main_process", True):
            write_gates_file(os.fspath(save_directory), model)


def gates_metadata(model: RepVideoMixin) -> dict[str, str]:
    """The settings stored next to the gates (safetensors metadata is str -> str)."""
    return {
        "format": f"repvideo-eval/{FORMAT_VERSION}",
        "family": model.repvideo_family,
        "base_class": model.repvideo_base_class.__name__,
        "cache_window": str(model.repvideo_cache_window),
        "enabled": json.dumps(bool(model.repvideo_enabled)),
        "num_layers": str(model.repvideo_gates.shape[0]),
    }


def write_gates_file(directory: str, model: RepVideoMixin) -> str:
    """Write ``repvideo.safetensors`` through ``repvideo_eval.atomic`` (whole, shareable)."""
    target = Path(directory) / GATES_FILE
    gates = model.repvideo_gates.detach().to("cpu", torch.float32).contiguous()
    metadata = gates_metadata(model)
    write_with_atomic(target, lambda tmp: save_file({GATES_KEY: gates}, tmp, metadata=metadata))
    return str(target)


def read_gates_file(directory: str) -> tuple[torch.Tensor, dict[str, str]]:
    """Read the gates (float32, CPU) and the settings written by ``write_gates_file``."""
    path = os.path.join(directory, GATES_FILE)
    with safe_open(path, framework="pt") as handle:
        metadata = dict(handle.metadata() or {})
        gates = handle.get_tensor(GATES_KEY)
    return gates, metadata
