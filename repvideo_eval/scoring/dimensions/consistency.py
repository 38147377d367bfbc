"""The pair formula shared by subject_consistency and background_consistency.

vbench, per video with L2-normalised features f_0..f_{T-1}:
    video_sim = sum_{i>=1} (max(0, cos(f_{i-1}, f_i)) + max(0, cos(f_0, f_i))) / 2
    video score = video_sim / (T - 1)
and the dimension score divides the sum of all video_sim by the total pair count, so the aggregation
weight is T - 1. Cosines are `F.cosine_similarity(...).item()` (float32) summed in Python floats, in
frame order, as vbench does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from repvideo_eval.scoring.scorer import DimensionScore


def pair_consistency(features: torch.Tensor) -> DimensionScore:
    """Consistency score of one video from its (T, D) features (normalised here)."""
    features = F.normalize(features, dim=-1, p=2)
    to_previous = F.cosine_similarity(features[:-1], features[1:]).tolist()
    to_first = F.cosine_similarity(
        features[:1].expand(len(features) - 1, -1), features[1:]
    ).tolist()
    video_sim = 0.0
    for previous, first in zip(to_previous, to_first):
        video_sim += (max(0.0, previous) + max(0.0, first)) / 2
    pairs = len(features) - 1
    return DimensionScore(
        score=video_sim / pairs,
        aggregation_weight=float(pairs),
        details={"frames": len(features), "video_sim": video_sim},
    )
