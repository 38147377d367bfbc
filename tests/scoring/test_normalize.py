"""VBench final-score normalisation and the eval_results.json writer."""

from __future__ import annotations

import json

import pytest

from repvideo_eval.scoring import ALL_DIMENSIONS, QUALITY_DIMENSIONS, SEMANTIC_DIMENSIONS
from repvideo_eval.scoring.normalize import quality_score, vbench_summary
from repvideo_eval.scoring.records import ScoreRecord
from repvideo_eval.scoring.vbench_constants import CONSTANTS, DIMENSION_TABLE
from repvideo_eval.scoring.vbench_results import vbench_eval_results, write_eval_results

# Published CogVideoX-2B per-dimension values (%, VBench leaderboard as printed in FlashVideo
# Table 1 / NOVA Table 3 / RepVideo Table I; motion smoothness 97.73 per RepVideo).
COGVIDEOX_2B = {
    "subject_consistency": 96.78,
    "background_consistency": 96.63,
    "temporal_flickering": 98.89,
    "motion_smoothness": 97.73,
    "dynamic_degree": 59.86,
    "aesthetic_quality": 60.82,
    "imaging_quality": 61.68,
    "object_class": 83.37,
    "multiple_objects": 62.63,
    "human_action": 98.00,
    "color": 79.41,
    "spatial_relationship": 69.90,
    "scene": 51.14,
    "appearance_style": 24.80,
    "temporal_style": 24.36,
    "overall_consistency": 26.66,
}


def test_table_has_sixteen_dimensions_in_vbench_order():
    assert len(DIMENSION_TABLE) == 16 and len(set(ALL_DIMENSIONS)) == 16
    assert ALL_DIMENSIONS == QUALITY_DIMENSIONS + SEMANTIC_DIMENSIONS
    assert len(QUALITY_DIMENSIONS) == 7 and len(SEMANTIC_DIMENSIONS) == 9
    assert sum(CONSTANTS[d].dimension_weight for d in QUALITY_DIMENSIONS) == 6.5


def test_published_cogvideox_2b_scores_reproduce():
    summary = vbench_summary({d: v / 100 for d, v in COGVIDEOX_2B.items()})
    assert round(summary["total_score"] * 100, 2) == 80.91
    assert round(summary["quality_score"] * 100, 2) == 82.18
    assert round(summary["semantic_score"] * 100, 2) == 75.83


def test_missing_dimensions_are_named():
    raw = {d: v / 100 for d, v in COGVIDEOX_2B.items() if d not in ("scene", "color")}
    with pytest.raises(ValueError, match="color, scene"):
        vbench_summary(raw)


def test_quality_score_needs_only_quality_dimensions():
    raw = {d: COGVIDEOX_2B[d] / 100 for d in QUALITY_DIMENSIONS}
    assert round(quality_score(raw) * 100, 2) == 82.18
    with pytest.raises(ValueError, match="dynamic_degree"):
        quality_score({d: v for d, v in raw.items() if d != "dynamic_degree"})


def _record(dim, video, score, weight=1.0, details=None, error=None):
    return ScoreRecord(video, "p", dim, score, weight, error, "b", "w", details or {}, {})


def test_eval_results_uses_vbench_scales_and_weights(tmp_path):
    records = [
        _record("subject_consistency", "a.mp4", 0.9, 15, {"video_sim": 13.5}),
        _record("subject_consistency", "b.mp4", 0.6, 5, {"video_sim": 3.0}),
        _record("imaging_quality", "a.mp4", 0.42, 1, {"musiq": 42.0}),
        _record("dynamic_degree", "a.mp4", 1.0),
        _record("dynamic_degree", "b.mp4", 0.0),
        _record("dynamic_degree", "c.mp4", None, 0.0, error="corrupt"),
    ]
    results = vbench_eval_results(records)
    # Pair-weighted: (13.5 + 3.0) / 20, not the mean of 0.9 and 0.6.
    assert results["subject_consistency"][0] == pytest.approx(16.5 / 20)
    assert results["imaging_quality"] == [0.42, [{"video_path": "a.mp4", "video_results": 42.0}]]
    assert results["dynamic_degree"][0] == 0.5
    assert [v["video_results"] for v in results["dynamic_degree"][1]] == [True, False]
    path = write_eval_results(records, tmp_path / "eval_results.json")
    assert json.loads(path.read_text()) == json.loads(json.dumps(results))
    assert [p.name for p in tmp_path.iterdir()] == ["eval_results.json"]
