"""Ablation grids: the YAML that lists the RepVideo settings an `ablate` command compares.

`load_grid` turns a grid into per-variant overrides; every value goes through config's setting
validators (the same checks a model card's `repvideo` block gets).

Grid format (see models/ablations/cache_window_and_gates.yaml):

    cache_window: [2, 4, 6, 8]     # positive ints; crossed with every gate mode except "off"
    gates: [learned, fixed, "off"] # quote "off": YAML 1.1 reads a bare off as false; not seeded
    gate_value: [0.25, 0.5]        # constants for "fixed" (0..1); required iff fixed is listed
    variants:                      # optional extra variants, added as written
      - {cache_window: 12, gates: learned}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from repvideo_eval.config import (
    GateMode,
    check_cache_window,
    check_gate_mode,
    check_gate_value,
)
from repvideo_eval.errors import UserError
from repvideo_eval.schema import from_mapping, read_yaml_mapping

T = TypeVar("T")

GRID_HINT = "See models/ablations/cache_window_and_gates.yaml for the format."


@dataclass(frozen=True)
class GridVariant:
    """One extra variant as a grid's `variants:` lists it."""

    cache_window: int | None = None
    gates: GateMode = "learned"
    gate_value: float | None = None


@dataclass(frozen=True)
class GridFile:
    """An ablation grid file: the lists that are crossed, and extra variants (None: not given)."""

    cache_window: tuple[int, ...] | None = None
    gates: tuple[GateMode, ...] | None = None
    gate_value: tuple[float, ...] | None = None
    variants: tuple[GridVariant, ...] = ()
    description: str = ""


# ----------------------------------------------------------------------------- grid parsing


def _grid_error(path: Path, problem: str) -> UserError:
    return UserError(f"ablation grid {path}: {problem}", GRID_HINT)


def _checked(path: Path, check: Callable[[Any], T], value: Any) -> T:
    """`check` (one of config's setting validators) with its error named after the grid."""
    try:
        return check(value)
    except ValueError as error:
        raise _grid_error(path, str(error)) from None


def _listed(path: Path, key: str, value: tuple[T, ...] | None, default: list[T]) -> list[T]:
    """A crossed key's values (`default` when the key is absent); an empty list is a mistake."""
    if value is None:
        return default
    if not value:
        raise _grid_error(path, f"{key} is an empty list")
    return list(value)


def _variant(path: Path, cache_window: Any, gates: Any, gate_value: Any) -> dict[str, Any]:
    """One checked override dict; 'off' ignores cache window and gate value (there is no mix)."""
    mode = _checked(path, check_gate_mode, gates)
    if mode == "seeded":  # a grid axis sweeps values; one seed's draw is a card, not an axis
        raise UserError(
            f"ablation grid {path}: gates seeded is not a grid setting (grids sweep fixed gate "
            "values, and a seed is no axis to sweep)",
            'List learned, fixed or "off"; seeded gates belong in a model card '
            "(repvideo: {gates: seeded, gate_seed: N}), compared with `run`.",
        )
    if mode == "off":
        return {"cache_window": None, "gates": "off", "gate_value": None}
    if cache_window is None:
        raise _grid_error(path, f"gates {mode} needs a cache_window")
    window = _checked(path, check_cache_window, cache_window)
    if mode == "fixed":
        if gate_value is None:
            raise _grid_error(path, "gates fixed needs a gate_value")
        return {
            "cache_window": window,
            "gates": "fixed",
            "gate_value": _checked(path, check_gate_value, gate_value),
        }
    if gate_value is not None:
        raise _grid_error(
            path, "gate_value applies only to gates fixed (learned gates come from the checkpoint)"
        )
    return {"cache_window": window, "gates": "learned", "gate_value": None}


def load_grid(path: Path) -> list[dict[str, Any]]:
    """Parse an ablation grid into a list of overrides (no duplicates, grid order).

    Each override is {"cache_window": int | None, "gates": "learned"|"fixed"|"off",
    "gate_value": float | None}. Malformed grids raise UserError naming the problem.
    """
    path = Path(path)
    what = f"ablation grid {path}"
    grid = from_mapping(
        GridFile, read_yaml_mapping(path, "ablation grid", GRID_HINT), what, hint=GRID_HINT
    )
    variants: list[dict[str, Any]] = []
    if grid.gates is not None or grid.cache_window is not None:
        modes: list[str] = _listed(path, "gates", grid.gates, ["learned"])
        windows: list[int | None] = [*_listed(path, "cache_window", grid.cache_window, [])] or [
            None
        ]
        values: list[float | None] = [*_listed(path, "gate_value", grid.gate_value, [])]
        if "fixed" in modes and not values:
            raise _grid_error(path, "gates lists fixed but gate_value is missing")
        if values and "fixed" not in modes:
            raise _grid_error(path, "gate_value is given but gates does not list fixed")
        for mode in modes:
            if mode == "off":
                variants.append(_variant(path, None, "off", None))
                continue
            for window in windows:
                for value in values if mode == "fixed" else [None]:
                    variants.append(_variant(path, window, mode, value))
    elif grid.gate_value is not None:
        raise _grid_error(path, "gate_value without gates and cache_window")
    for item in grid.variants:
        variants.append(_variant(path, item.cache_window, item.gates, item.gate_value))
    unique: list[dict[str, Any]] = []
    for variant in variants:
        if variant not in unique:
            unique.append(variant)
    if not unique:
        raise _grid_error(path, "it defines no variant")
    return unique
