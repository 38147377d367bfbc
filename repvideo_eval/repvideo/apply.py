"""Turn a stock diffusers video transformer into RepVideo, in place.

The conversion swaps the object's class for the family's RepVideo subclass (same modules, same
weights, same parameter names) and registers one gate vector. Nothing is copied, so the caller's
references (a pipeline holding the transformer, an optimizer over its parameters) stay valid;
add ``repvideo_gates`` to an existing optimizer yourself if you train the gates.
"""

from __future__ import annotations

from typing import TypeGuard, cast

import torch

from repvideo_eval.repvideo import adapters
from repvideo_eval.repvideo.model_state import RepVideoMixin
from repvideo_eval.repvideo.schedule import (
    PAPER_CACHE_WINDOW,
    PAPER_GATE_INIT,
    validate_cache_window,
)


def supported_classes() -> list[str]:
    """Names of the stock diffusers transformer classes apply_repvideo accepts."""
    return adapters.supported_classes()


def is_repvideo(transformer: object) -> TypeGuard[RepVideoMixin]:
    """True when ``transformer`` has been converted by apply_repvideo (or loaded by load_repvideo)."""
    return isinstance(transformer, RepVideoMixin)


def repvideo_class_for(base_class_name: str) -> type[RepVideoMixin]:
    """The RepVideo subclass for a stock class name; UserError (one line) for unsupported ones."""
    return cast(type[RepVideoMixin], adapters.adapter_for(base_class_name).load())


def _reference_parameter(transformer: torch.nn.Module) -> torch.Tensor:
    return next(transformer.parameters())


def apply_repvideo(
    transformer: torch.nn.Module,
    cache_window: int = PAPER_CACHE_WINDOW,
    gate_init: float = PAPER_GATE_INIT,
) -> torch.nn.Module:
    """Make ``transformer`` a RepVideo model in place and return it.

    Adds ``transformer.repvideo_gates`` (one ``nn.Parameter`` of shape ``(num_layers,)``, every
    entry ``gate_init``, same dtype and device as the weights), ``repvideo_cache_window`` and
    ``repvideo_enabled = True``. Dispatches on the exact stock class through ``adapters``; an
    unsupported class raises a one-line UserError. Converting twice raises
    ValueError (use ``configure_repvideo`` to change gates or the window).
    The gate vector has one entry per block of the loop (``repvideo_blocks``), e.g. dual-stream
    then single-stream blocks for HunyuanVideo.
    """
    if is_repvideo(transformer):
        raise ValueError(
            "transformer is already RepVideo; change it with configure_repvideo() instead of apply_repvideo()"
        )
    validate_cache_window(cache_window)
    base_name = type(transformer).__name__
    subclass = repvideo_class_for(base_name)
    if type(transformer) is not subclass.repvideo_base_class:
        raise TypeError(
            f"RepVideo adapts {subclass.repvideo_base_class.__module__}.{base_name}, not {type(transformer)}"
        )
    blocks = subclass.repvideo_blocks(cast(RepVideoMixin, transformer))
    ref = _reference_parameter(transformer)
    gates = torch.nn.Parameter(
        torch.full((len(blocks),), float(gate_init), dtype=ref.dtype, device=ref.device)
    )

    transformer.__class__ = cast(type[torch.nn.Module], subclass)  # a Module subclass too
    transformer.register_parameter("repvideo_gates", gates)
    repvideo = cast(RepVideoMixin, transformer)  # now an instance of `subclass`
    repvideo.repvideo_cache_window = cache_window
    repvideo.repvideo_enabled = True
    return transformer


#: pipeline attributes that may hold a denoising transformer (Wan 2.2 A14B has two: a
#: high-noise ``transformer`` and a low-noise ``transformer_2``, switched at a boundary step)
TRANSFORMER_ATTRIBUTES = ("transformer", "transformer_2")


def pipeline_transformers(pipe: object) -> list[torch.nn.Module]:
    """Every denoising transformer of a diffusers pipeline, in order; RepVideo wraps each.

    Each keeps its own gate vector: Wan 2.2 A14B's two experts are different networks, so a
    learned gate of one says nothing about the other; fixed gates set both alike, seeded gates
    draw each expert's from its own seed.
    """
    return [module for _name, module in named_pipeline_transformers(pipe)]


def named_pipeline_transformers(pipe: object) -> list[tuple[str, torch.nn.Module]]:
    """`pipeline_transformers` with each transformer's attribute name (seeded gates use it)."""
    found = [(name, getattr(pipe, name, None)) for name in TRANSFORMER_ATTRIBUTES]
    return [(name, module) for name, module in found if isinstance(module, torch.nn.Module)]
