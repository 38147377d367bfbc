"""Engine behaviour: dimension validation, tiny-random mode, decode-once, record contract."""

from __future__ import annotations

import pytest

from repvideo_eval.errors import UserError
from repvideo_eval.scoring import (
    QUALITY_DIMENSIONS,
    ScoringSession,
    VideoToScore,
    aggregate,
    implemented_dimensions,
    score_videos,
)
from repvideo_eval.scoring import decode as decode_module

from .synthetic_videos import render_frames, write_video


@pytest.fixture(scope="module")
def tiny_videos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    return [
        write_video(folder / f"clip-{i}.mp4", render_frames(kind, 9, 32, 32, seed=i))
        for i, kind in enumerate(("static", "square", "pan"))
    ]


def test_quality_dimensions_are_implemented():
    assert set(QUALITY_DIMENSIONS) <= set(implemented_dimensions())


def test_unknown_dimension_lists_valid_ones():
    with pytest.raises(UserError) as info:
        ScoringSession(["temporal_flickering", "motion_smoothnes"], scoring_weights="tiny-random")
    assert "motion_smoothnes" in str(info.value) and "motion_smoothness" in str(info.value)


def test_bad_weights_mode_is_a_user_error():
    with pytest.raises(UserError, match="tiny-random"):
        ScoringSession(["temporal_flickering"], scoring_weights="random")


def test_tiny_random_scores_every_dimension_reproducibly(tiny_videos):
    videos = [
        VideoToScore(p, "a prompt", key={"model": "m", "sample": i})
        for i, p in enumerate(tiny_videos)
    ]
    first = score_videos(videos, QUALITY_DIMENSIONS, scoring_weights="tiny-random", progress=False)
    second = score_videos(videos, QUALITY_DIMENSIONS, scoring_weights="tiny-random", progress=False)
    assert [r.score for r in first] == [r.score for r in second]
    assert all(r.error is None for r in first), [r.error for r in first if r.error]
    assert {r.weights_id for r in first if r.dimension != "temporal_flickering"} == {
        "tiny-random:seed=0"
    }
    assert first[0].key == {"model": "m", "sample": 0}
    other_seed = score_videos(
        videos[:1], ["subject_consistency"], scoring_weights="tiny-random:seed=1", progress=False
    )
    assert (
        other_seed[0].weights_id == "tiny-random:seed=1" and other_seed[0].score != first[0].score
    )
    consistency = [r for r in first if r.dimension == "subject_consistency"]
    assert all(r.aggregation_weight == 8 for r in consistency)  # 9 frames -> 8 pairs
    assert 0.0 <= aggregate(first)["temporal_flickering"] <= 1.0


def test_each_decoder_runs_once_per_video(tiny_videos, monkeypatch):
    calls = {"cv2": 0, "decord": 0}
    original_cv2, original_decord = (
        decode_module.DecodedVideo.cv2_bgr,
        decode_module.DecodedVideo.decord_rgb,
    )

    def counting_cv2(self):
        if self._cv2 is None:
            calls["cv2"] += 1
        return original_cv2(self)

    def counting_decord(self):
        if self._decord is None:
            calls["decord"] += 1
        return original_decord(self)

    monkeypatch.setattr(decode_module.DecodedVideo, "cv2_bgr", counting_cv2)
    monkeypatch.setattr(decode_module.DecodedVideo, "decord_rgb", counting_decord)
    session = ScoringSession(QUALITY_DIMENSIONS, scoring_weights="tiny-random")
    session.score(VideoToScore(tiny_videos[0], "p"))
    assert calls == {"cv2": 1, "decord": 1}
    session.score(VideoToScore(tiny_videos[1], "p"), ["temporal_flickering", "motion_smoothness"])
    assert calls == {"cv2": 2, "decord": 1}


def test_aggregate_weights_pairs_and_skips_errors():
    from repvideo_eval.scoring import ScoreRecord

    rows = [
        ScoreRecord("a", "", "subject_consistency", 1.0, 3.0, None, "b", "w"),
        ScoreRecord("b", "", "subject_consistency", 0.5, 1.0, None, "b", "w"),
        ScoreRecord("c", "", "subject_consistency", None, 0.0, "broken", "b", "w"),
    ]
    assert aggregate(rows) == {"subject_consistency": pytest.approx(3.5 / 4)}
