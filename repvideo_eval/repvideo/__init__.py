"""RepVideo (arXiv 2501.08994) on diffusers video transformers.

The method: before each DiT block, mix its input with the mean of the block outputs cached in
the current window, ``h = g[i] * mean(cache) + (1 - g[i]) * h`` (the official code's convention),
with one learnable gate per block. This package converts diffusers transformers in place,
sets gates for ablations, and converts the official SAT checkpoint. See docs/repvideo.md.

Heavy modules (torch, diffusers) load on first use of the names that need them, so importing
this package to call ``inactive_layers`` stays cheap.
"""

from __future__ import annotations

from repvideo_eval.lazy import lazy_attributes
from repvideo_eval.repvideo.schedule import (
    PAPER_CACHE_WINDOW,
    PAPER_GATE_INIT,
    active_layers,
    cache_sizes,
    inactive_layers,
)

_LAZY = {
    "apply_repvideo": "repvideo_eval.repvideo.apply",
    "is_repvideo": "repvideo_eval.repvideo.apply",
    "supported_classes": "repvideo_eval.repvideo.apply",
    "pipeline_transformers": "repvideo_eval.repvideo.apply",
    "adapter_for": "repvideo_eval.repvideo.adapters",
    "can_wrap": "repvideo_eval.repvideo.adapters",
    "configure_repvideo": "repvideo_eval.repvideo.gates",
    "disable_repvideo": "repvideo_eval.repvideo.gates",
    "enable_repvideo": "repvideo_eval.repvideo.gates",
    "get_gates": "repvideo_eval.repvideo.gates",
    "set_cache_window": "repvideo_eval.repvideo.gates",
    "set_gates": "repvideo_eval.repvideo.gates",
    "set_gates_constant": "repvideo_eval.repvideo.gates",
    "seeded_gates": "repvideo_eval.repvideo.gates",
    "expert_gate_seed": "repvideo_eval.repvideo.gates",
    "load_repvideo": "repvideo_eval.repvideo.loading",
    "ensure_converted": "repvideo_eval.repvideo.sat_convert",
    "convert_sat_checkpoint": "repvideo_eval.repvideo.sat_convert",
}

__all__ = [
    "PAPER_CACHE_WINDOW",
    "PAPER_GATE_INIT",
    "active_layers",
    "cache_sizes",
    "inactive_layers",
    *_LAZY,
]


__getattr__ = lazy_attributes(__name__, _LAZY, globals())
