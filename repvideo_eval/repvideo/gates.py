"""Set and read RepVideo gates and the cache window for ablations.

Ablations sweep the gates over {learned (from a checkpoint), a fixed constant, off} and the
cache window. "off" switches the stock block loop back on (bit for bit the unmodified model)
while keeping the gate values, so switching RepVideo on again restores them. Seeded gates
(`seeded_gates`) are the training-free alternative to a constant: one value per block, spread
around the official init, the same on every machine for one seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch

from repvideo_eval.errors import UserError
from repvideo_eval.repvideo.apply import is_repvideo
from repvideo_eval.repvideo.block_loop import mixing_plan
from repvideo_eval.repvideo.model_state import RepVideoMixin
from repvideo_eval.repvideo.schedule import PAPER_GATE_INIT, validate_cache_window

#: Gate settings understood by configure_repvideo besides a number or a list of numbers.
LEARNED = "learned"
OFF = "off"

GateSetting = str | float | int | Sequence[float] | torch.Tensor

#: Width of the interval seeded gates are drawn from, centred on the official init of 0.5:
#: every gate lies in [0.35, 0.65).
SEEDED_GATE_SPREAD = 0.3


def seeded_gates(count: int, seed: int) -> torch.Tensor:
    """`count` gates (float32), uniform in [0.35, 0.65) around the official init of 0.5.

    Drawn from a CPU generator seeded with `seed`, so one seed gives the same gates on every
    machine and device (a CUDA generator's stream differs from the CPU's)."""
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    draws = torch.rand(int(count), generator=generator, dtype=torch.float32)
    return PAPER_GATE_INIT + SEEDED_GATE_SPREAD * (draws - 0.5)


def expert_gate_seed(gate_seed: int, attribute: str) -> int:
    """The seed of the seeded gates of the pipeline's transformer `attribute`.

    `transformer` takes `gate_seed` itself; another expert (Wan 2.2 A14B's `transformer_2`)
    takes 63 bits of sha256("<gate_seed>:<attribute>"), so the two experts get different gates
    and one card seed still fixes both."""
    if attribute == "transformer":
        return int(gate_seed)
    digest = hashlib.sha256(f"{int(gate_seed)}:{attribute}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def _require_repvideo(transformer: torch.nn.Module) -> RepVideoMixin:
    if not is_repvideo(transformer):
        raise TypeError(
            "not a RepVideo transformer: call apply_repvideo() or load_repvideo() first"
        )
    return transformer


def get_gates(transformer: torch.nn.Module) -> list[float]:
    """The current gate values as floats (whatever ``repvideo_enabled`` says)."""
    model = _require_repvideo(transformer)
    return [float(v) for v in model.repvideo_gates.detach().float().cpu().tolist()]


def set_gates(transformer: torch.nn.Module, values: Sequence[float] | torch.Tensor) -> None:
    """Copy ``values`` (one per block) into the gates and switch RepVideo on."""
    model = _require_repvideo(transformer)
    gates = model.repvideo_gates
    new = torch.as_tensor(values, dtype=torch.float32).flatten()
    if new.shape != gates.shape:
        raise UserError(
            f"RepVideo needs {gates.shape[0]} gate values (one per block), got {new.shape[0]}",
            "Give one value per transformer block, or a single constant.",
        )
    if not torch.isfinite(new).all():
        raise UserError(
            "RepVideo gate values must be finite numbers", "Remove inf/NaN from the gate list."
        )
    with torch.no_grad():
        gates.copy_(new.to(gates.dtype))
    model.repvideo_enabled = True
    _refresh_frozen_plan(transformer)


def set_gates_constant(transformer: torch.nn.Module, value: float) -> None:
    """Set every gate to ``value`` (training-free ablation) and switch RepVideo on."""
    model = _require_repvideo(transformer)
    set_gates(transformer, [float(value)] * model.repvideo_gates.shape[0])


def disable_repvideo(transformer: torch.nn.Module) -> None:
    """Run the stock block loop (no cache, no mix) while keeping the gate values."""
    _require_repvideo(transformer).repvideo_enabled = False


def enable_repvideo(transformer: torch.nn.Module) -> None:
    """Run the RepVideo block loop again with the current gate values."""
    _require_repvideo(transformer).repvideo_enabled = True


def set_cache_window(transformer: torch.nn.Module, cache_window: int) -> None:
    """Change the cache size (the official code's 6)."""
    model = _require_repvideo(transformer)
    model.repvideo_cache_window = validate_cache_window(cache_window)
    _refresh_frozen_plan(transformer)


def freeze_mixing_plan(transformer: torch.nn.Module) -> tuple[bool, ...]:
    """Compute which blocks mix from the current gates once, for a compiled forward.

    A compiled forward then reads no gate values (which would be a graph break). The setters in
    this module refresh a frozen plan; changing ``repvideo_gates`` in place by hand does not.
    """
    model = _require_repvideo(transformer)
    with torch.no_grad():
        plan = tuple(mixing_plan(model.repvideo_gates.detach(), model.repvideo_cache_window))
    model.repvideo_frozen_plan = plan
    return plan


def _refresh_frozen_plan(transformer: torch.nn.Module) -> None:
    if getattr(transformer, "repvideo_frozen_plan", None) is not None:
        freeze_mixing_plan(transformer)


def configure_repvideo(
    transformer: torch.nn.Module,
    gates: GateSetting = LEARNED,
    cache_window: int | None = None,
) -> torch.nn.Module:
    """Apply one ablation setting and return the transformer.

    ``gates``: ``"learned"`` keeps the current values (e.g. loaded from a checkpoint) and switches
    RepVideo on; ``"off"`` runs the stock loop; a number sets every gate to it; a sequence or
    tensor sets one value per block. ``cache_window`` (optional) changes the cache size.
    """
    _require_repvideo(transformer)
    if cache_window is not None:
        set_cache_window(transformer, cache_window)
    if isinstance(gates, str):
        if gates == OFF:
            disable_repvideo(transformer)
        elif gates == LEARNED:
            enable_repvideo(transformer)
        else:
            raise UserError(
                f"unknown RepVideo gate setting {gates!r}",
                f"Use {LEARNED!r}, {OFF!r}, a number, or one number per block.",
            )
    elif isinstance(gates, (int, float)) and not isinstance(gates, bool):
        set_gates_constant(transformer, float(gates))
    elif isinstance(gates, (Sequence, torch.Tensor)) and not isinstance(gates, str):
        set_gates(transformer, gates)
    else:
        raise UserError(
            f"unknown RepVideo gate setting {gates!r}",
            f"Use {LEARNED!r}, {OFF!r}, a number, or one number per block.",
        )
    return transformer
