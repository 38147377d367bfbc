"""Quality / Semantic / Total for a leaderboard row, through the scoring package's normaliser.

The VBench constants (Min, Max, weights, groups) live only in `repvideo_eval.scoring`; this
module calls `repvideo_eval.scoring.normalize.vbench_summary` and never repeats them. A row
gets summary scores only when all 16 dimensions were measured: VBench counts a missing
dimension as 0, which would make a partial run's Total meaningless.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS

SUMMARY_NAMES: tuple[str, ...] = ("quality_score", "semantic_score", "total_score")
SUMMARY_LABELS: dict[str, str] = {
    "quality_score": "Quality",
    "semantic_score": "Semantic",
    "total_score": "Total",
}


def has_all_dimensions(raw: Mapping[str, float]) -> bool:
    """True when every one of the 16 VBench dimensions has a finite score."""
    return all(
        name in raw and raw[name] is not None and math.isfinite(raw[name])
        for name in ALL_DIMENSIONS
    )


def summary_scores(raw: Mapping[str, float]) -> dict[str, float] | None:
    """Quality, Semantic and Total (fractions, like the inputs) or None for a partial row.

    `raw` maps dimension names to VBench dimension scores as fractions (0..1).
    """
    if not has_all_dimensions(raw):
        return None
    from repvideo_eval.scoring.normalize import vbench_summary

    result = vbench_summary({name: float(raw[name]) for name in ALL_DIMENSIONS})
    return {name: float(result[name]) for name in SUMMARY_NAMES}
