"""VBench's final scores from raw dimension scores (`scripts/cal_final_score.py` semantics).

For each dimension: norm = (raw - Min) / (Max - Min) * dimension_weight, with raw on the 0..1
scale of eval_results.json and nothing clipped. Quality = sum of the 7 quality norms / sum of
their dimension weights (6.5, dynamic_degree weighs 0.5); Semantic = sum of the 9 semantic norms
/ 9; Total = (4 * Quality + 1 * Semantic) / 5. Leaderboards print these x 100.
Constants live in `vbench_constants.DIMENSION_TABLE` (the project's single source).
Unlike VBench's script (which counts a missing dimension as 0), a missing dimension is an error:
a Total over a partial run is never reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from repvideo_eval.scoring.vbench_constants import (
    ALL_DIMENSIONS,
    CONSTANTS,
    QUALITY_DIMENSIONS,
    QUALITY_WEIGHT,
    SEMANTIC_DIMENSIONS,
    SEMANTIC_WEIGHT,
)


def normalized_score(dimension: str, raw: float) -> float:
    """(raw - Min) / (Max - Min) * dimension_weight for one dimension."""
    constants = CONSTANTS[dimension]
    return (
        (raw - constants.minimum)
        / (constants.maximum - constants.minimum)
        * constants.dimension_weight
    )


def _check(raw: Mapping[str, float], needed: tuple[str, ...]) -> None:
    missing = [d for d in needed if d not in raw]
    if missing:
        raise ValueError(f"missing VBench dimension(s): {', '.join(missing)}")
    bad = [d for d in needed if not isinstance(raw[d], (int, float)) or not math.isfinite(raw[d])]
    if bad:
        raise ValueError(f"non-finite VBench dimension score(s): {', '.join(bad)}")


def group_score(raw: Mapping[str, float], dimensions: tuple[str, ...]) -> float:
    """Weighted mean of normalised scores over `dimensions` (all must be present)."""
    _check(raw, dimensions)
    total_weight = sum(CONSTANTS[d].dimension_weight for d in dimensions)
    return sum(normalized_score(d, float(raw[d])) for d in dimensions) / total_weight


def quality_score(raw: Mapping[str, float]) -> float:
    """VBench Quality score (0..1) from the 7 quality dimensions; ValueError if any is missing."""
    return group_score(raw, QUALITY_DIMENSIONS)


def vbench_summary(raw: Mapping[str, float]) -> dict:
    """quality_score, semantic_score, total_score (0..1) plus per-dimension normalised values.

    `raw` maps dimension names to 0..1 scores as in eval_results.json. Raises ValueError naming
    the missing dimensions when any of the 16 is absent.
    """
    _check(raw, ALL_DIMENSIONS)
    quality = group_score(raw, QUALITY_DIMENSIONS)
    semantic = group_score(raw, SEMANTIC_DIMENSIONS)
    total = (QUALITY_WEIGHT * quality + SEMANTIC_WEIGHT * semantic) / (
        QUALITY_WEIGHT + SEMANTIC_WEIGHT
    )
    return {
        "quality_score": quality,
        "semantic_score": semantic,
        "total_score": total,
        "normalized": {d: normalized_score(d, float(raw[d])) for d in ALL_DIMENSIONS},
    }
