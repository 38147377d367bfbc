"""Per-video parity with vbench 0.1.5's own code on random weights in the official formats.

vbench runs in a subprocess per dimension (`vbench_reference.py`, via `compute_<dimension>`
except: dynamic_degree through `DynamicDegree` with the raw pair scores recorded, and
subject_consistency through the inner `subject_consistency()` with an injected DINO, since DINO's
hub code is not on PyPI). The project's scorer runs in-process on the same files with
scoring_weights="local". Scores must agree within 1e-4 absolute (the brief's bound).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repvideo_eval.scoring import QUALITY_DIMENSIONS, ScoringSession, VideoToScore

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def project_session(vbench_cache):
    return ScoringSession(QUALITY_DIMENSIONS, scoring_weights="local", cache_dir=vbench_cache)


def _project_scores(
    session: ScoringSession, videos: list[Path], dimension: str
) -> dict[str, object]:
    out = {}
    for video in videos:
        (record,) = session.score(VideoToScore(video, "parity"), [dimension])
        assert record.error is None, record.error
        assert (
            record.dimension == dimension
            and record.weights_id.startswith("vbench:")
            or dimension == "temporal_flickering"
        )
        out[str(video)] = record
    return out


def _vbench_value(dimension: str, row: dict) -> float:
    # vbench lists imaging_quality per video on MUSIQ's 0..100 scale; records are 0..1.
    return row["value"] / 100.0 if dimension == "imaging_quality" else row["value"]


def _assert_parity(dimension: str, ours: dict, reference: dict) -> None:
    assert set(ours) == set(reference)
    for video, record in ours.items():
        expected = _vbench_value(dimension, reference[video])
        assert record.score == pytest.approx(expected, abs=TOLERANCE), (dimension, video)
        if dimension == "dynamic_degree":
            row = reference[video]
            assert record.details["thres"] == row["thres"]
            assert record.details["count_num"] == row["count_num"]
            # The scorer stops once the verdict is settled: its pairs are a prefix of vbench's.
            scored = record.details["pair_scores"]
            assert record.details["pairs_total"] == len(row["pair_scores"]) and 1 <= len(scored)
            assert scored == pytest.approx(row["pair_scores"][: len(scored)], rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("dimension", QUALITY_DIMENSIONS)
def test_one_video_matches_vbench(dimension, fast_video, run_vbench, project_session):
    reference = run_vbench(dimension, [fast_video])
    ours = _project_scores(project_session, [fast_video], dimension)
    _assert_parity(dimension, ours, reference)


@pytest.mark.slow
@pytest.mark.parametrize("dimension", QUALITY_DIMENSIONS)
def test_varied_videos_match_vbench(dimension, slow_videos, run_vbench, vbench_cache):
    session = ScoringSession([dimension], scoring_weights="local", cache_dir=vbench_cache)
    reference = run_vbench(dimension, slow_videos)
    ours = _project_scores(session, slow_videos, dimension)
    _assert_parity(dimension, ours, reference)
