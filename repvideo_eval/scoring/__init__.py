"""VBench scoring: the seven quality dimensions on one engine, faithful to vbench 0.1.5.

Public API (stable; the generation/Ray/reporting layers build on it):

* `QUALITY_DIMENSIONS`, `SEMANTIC_DIMENSIONS`, `ALL_DIMENSIONS` (VBench order)
* `implemented_dimensions()`
* `VideoToScore`, `ScoreRecord`
* `score_videos(videos, dimensions, *, device, scoring_weights, cache_dir, progress)`
* `ScoringSession(dimensions, *, device, scoring_weights, cache_dir).score(video)`
* `aggregate(records)` -> VBench's per-dimension scores
* `normalize.vbench_summary(raw)` -> quality/semantic/total
"""

from __future__ import annotations

from repvideo_eval.scoring.aggregate import aggregate
from repvideo_eval.scoring.dimension_registry import implemented_dimensions
from repvideo_eval.scoring.records import ScoreRecord, VideoToScore
from repvideo_eval.scoring.session import ScoringSession, score_videos
from repvideo_eval.scoring.vbench_constants import (
    ALL_DIMENSIONS,
    QUALITY_DIMENSIONS,
    SEMANTIC_DIMENSIONS,
)

__all__ = [
    "ALL_DIMENSIONS",
    "QUALITY_DIMENSIONS",
    "SEMANTIC_DIMENSIONS",
    "ScoreRecord",
    "ScoringSession",
    "VideoToScore",
    "aggregate",
    "implemented_dimensions",
    "score_videos",
]
