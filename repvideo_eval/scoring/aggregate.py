"""VBench's dimension score from per-video records: sum(score * w) / sum(w), w their aggregation
weights.

The aggregation weights reproduce vbench's single-process aggregates: frame pairs for subject and
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
    weight_sums: dict[str, float] = defaultdict(float)
    for record in records:
        score = record.score
        if score is None or not record.ok or record.aggregation_weight <= 0:
            continue
        if not math.isfinite(float(score)):
            continue
        sums[record.dimension] += float(score) * record.aggregation_weight
        weight_sums[record.dimension] += record.aggregation_weight
    order = {name: i for i, name in enumerate(ALL_DIMENSIONS)}
    return {
        dim: sums[dim] / weight_sums[dim]
        for dim in sorted(weight_sums, key=lambda d: order.get(d, len(order)))
        if weight_sums[dim] > 0
    }
