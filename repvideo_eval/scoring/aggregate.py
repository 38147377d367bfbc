"""VBench's dimension score from per-video records: sum(score * weight) / sum(weight).

The weights reproduce vbench's single-process aggregates: frame pairs for subject and
background consistency (vbench sums all pair terms and divides by the pair count), one per
video for the other quality dimensions. Records with an error are left out, as vbench leaves
out videos it cannot read.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from repvideo_eval.scoring.records import ScoreRecord
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS


def aggregate(records: Iterable[ScoreRecord]) -> dict[str, float]:
    """Dimension -> VBench dimension score (0..1), for dimensions with at least one scored video."""
    sums: dict[str, float] = defaultdict(float)
    weights: dict[str, float] = defaultdict(float)
    for record in records:
        if not record.ok or record.weight <= 0 or not math.isfinite(float(record.score)):  # type: ignore[arg-type]
            continue
        sums[record.dimension] += float(record.score) * record.weight  # type: ignore[arg-type]
        weights[record.dimension] += record.weight
    order = {name: i for i, name in enumerate(ALL_DIMENSIONS)}
    return {
        dim: sums[dim] / weights[dim]
        for dim in sorted(weights, key=lambda d: order.get(d, len(order)))
        if weights[dim] > 0
    }
