"""Ablation grids: the YAML that lists the RepVideo settings an `ablate` command compares.

`load_grid` turns a grid into per-variant overrides; every value goes through config's setting
validators (the same checks a model card's `repvideo` block gets).

Grid format (see models/ablations/cache_window_and_gates.yaml):

    cache_window: [2, 4, 6, 8]     # positive ints; crossed with every gate mode except "off"
    gates: [learned, fixed, "off"] # quote "off": YAML 1.1 reads a bare off as false
    gate_value: [0.25, 0.5]        # constants for "fixed" (0..1); required iff fixed is listed
    variants:                      # optional extra variants, added as written
      - {cache_window: 12, gates: learned}
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from repvideo_eval.config import check_cache_window, check_gate_mode, check_gate_value
from repvideo_eval.errors import UserError

T = TypeVar("T")

GRID_KEYS = ("cache_window", "gates", "gate_value", "variants", "description")


# ----------------------------------------------------------------------------- grid parsing


def _grid_error(path: Path, problem: str) -> UserError:
    return UserError(
        f"ablation grid {path}: {problem}",
        "See models/ablations/cache_window_and_gates.yaml for the format.",
    )


def _checked(path: Path, check: Callable[[Any], T], value: Any) -> T:
    """`check` (one of config's setting validators) with its error named after the grid."""
    try:
        return check(value)
    except ValueError as error:
        raise _grid_error(path, str(error)) from None


def _gate_mode(path: Path, value: Any) -> str:
    return _checked(path, check_gate_mode, value)


def _cache_window(path: Path, value: Any) -> int:
    return _checked(path, check_cache_window, value)


def _gate_value(path: Path, value: Any) -> float:
    return _checked(path, check_gate_value, value)


def _as_list(path: Path, key: str, value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _grid_error(path, f"{key} is an empty list")
    return items


def _variant(path: Path, cache_window: Any, gates: Any, gate_value: Any) -> dict[str, Any]:
    """One checked override dict; 'off' ignores cache window and gate value (there is no mix)."""
    mode = _gate_mode(path, gates)
    if mode == "off":
        return {"cache_window": None, "gates": "off", "gate_value": None}
    if cache_window is None:
        raise _grid_error(path, f"gates {mode} needs a cache_window")
    window = _cache_window(path, cache_window)
    if mode == "fixed":
        if gate_value is None:
            raise _grid_error(path, "gates fixed needs a gate_value")
        return {
            "cache_window": window,
            "gates": "fixed",
            "gate_value": _gate_value(path, gate_value),
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
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"ablation grid {path} does not exist",
            "Pass a YAML grid such as models/ablations/cache_window_and_gates.yaml.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"cannot read ablation grid {path} ({exc})", "Pass a readable UTF-8 YAML file."
        ) from None
    except yaml.YAMLError as exc:
        raise _grid_error(path, f"not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(document, dict):
        raise _grid_error(
            path,
            "the top level must be a mapping with cache_window / gates / gate_value / variants",
        )
    unknown = sorted(set(map(str, document)) - set(GRID_KEYS))
    if unknown:
        raise _grid_error(
            path, f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(GRID_KEYS)})"
        )
    variants: list[dict[str, Any]] = []
    if "gates" in document or "cache_window" in document:
        modes = [
            _gate_mode(path, g) for g in _as_list(path, "gates", document.get("gates", "learned"))
        ]
        windows = (
            _as_list(path, "cache_window", document["cache_window"])
            if "cache_window" in document
            else [None]
        )
        values = (
            _as_list(path, "gate_value", document["gate_value"]) if "gate_value" in document else []
        )
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
    elif "gate_value" in document:
        raise _grid_error(path, "gate_value without gates and cache_window")
    extra = document.get("variants", [])
    if not isinstance(extra, list):
        raise _grid_error(path, "variants must be a list of mappings")
    for item in extra:
        if not isinstance(item, dict) or set(map(str, item)) - {
            "cache_window",
            "gates",
            "gate_value",
        }:
            raise _grid_error(
                path,
                f"each variant is a mapping with cache_window, gates, gate_value; got {item!r}",
            )
        variants.append(
            _variant(
                path, item.get("cache_window"), item.get("gates", "learned"), item.get("gate_value")
            )
        )
    unique: list[dict[str, Any]] = []
    for variant in variants:
        if variant not in unique:
            unique.append(variant)
    if not unique:
        raise _grid_error(path, "it defines no variant")
    return unique
