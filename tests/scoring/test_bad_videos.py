"""Bad inputs become per-video error rows with a reason; the rest of the batch is still scored."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from repvideo_eval.scoring import (
    QUALITY_DIMENSIONS,
    ScoringSession,
    VideoToScore,
    aggregate,
    score_videos,
)
from repvideo_eval.scoring.decode import DecodedVideo

from .synthetic_videos import render_frames, write_video


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    files = {
        "good": write_video(folder / "good-0.mp4", render_frames("square", 9, 32, 32)),
        "fps24": write_video(folder / "fps24-0.mp4", render_frames("square", 12, 32, 32), fps=24),
        "single": write_video(folder / "single-0.mp4", render_frames("square", 1, 32, 32)),
        "corrupt": folder / "corrupt-0.mp4",
        "empty": folder / "empty-0.mp4",
        "truncated": folder / "truncated-0.mp4",
        "zero_frames": folder / "zero-0.mp4",
        "odd": folder / "odd-0.mp4",
        "missing": folder / "missing-0.mp4",
    }
    files["corrupt"].write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(files["good"].read_bytes()[:300])
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=32x32:r=8",
        "-frames:v",
        "0",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(files["zero_frames"]),
    )
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=33x31:r=8",
        "-frames:v",
        "9",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv444p",
        str(files["odd"]),
    )
    return files


@pytest.fixture(scope="module")
def records(bad_folder):
    videos = [VideoToScore(path, name) for name, path in bad_folder.items()]
    return score_videos(videos, QUALITY_DIMENSIONS, scoring_weights="tiny-random", progress=False)


def _by(records, prompt):
    return {r.dimension: r for r in records if r.prompt == prompt}


def test_one_record_per_video_and_dimension(records, bad_folder):
    assert len(records) == len(bad_folder) * len(QUALITY_DIMENSIONS)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("corrupt", "no decodable frames|cannot read"),
        ("empty", "empty file"),
        ("truncated", "no decodable frames|cannot read"),
        ("zero_frames", "no decodable frames|zero frames|cannot read"),
        ("missing", "file not found"),
    ],
)
def test_unreadable_files_get_an_error_on_every_dimension(records, name, reason):
    rows = _by(records, name)
    assert set(rows) == set(QUALITY_DIMENSIONS)
    for row in rows.values():
        assert row.score is None and row.aggregation_weight == 0.0
        assert row.error and __import__("re").search(reason, row.error), row.error


def test_single_frame_scores_per_frame_dimensions_only(records):
    rows = _by(records, "single")
    for dim in ("aesthetic_quality", "imaging_quality"):
        assert rows[dim].error is None and rows[dim].score is not None
    for dim in (
        "subject_consistency",
        "background_consistency",
        "temporal_flickering",
        "dynamic_degree",
    ):
        assert "needs at least 2 frames, the video has 1" in rows[dim].error
    assert "needs at least 3 frames" in rows["motion_smoothness"].error


def test_odd_sized_video_is_scored_or_rejected_with_a_reason(records):
    rows = _by(records, "odd")
    # 33x31: per-frame models resize to 224 and score it; the tiny flow models need >= 16 px
    # after padding, which 33x31 has.
    assert all(row.error is None for row in rows.values()), {d: r.error for d, r in rows.items()}
    assert rows["dynamic_degree"].details["frames_used"] == 9


def test_other_fps_changes_only_the_stride(records):
    rows = _by(records, "fps24")
    assert (
        rows["dynamic_degree"].details["stride"] == 3
        and rows["dynamic_degree"].details["frames_used"] == 4
    )
    assert rows["dynamic_degree"].details["fps"] == pytest.approx(24.0)


def test_good_videos_still_aggregate(records):
    scores = aggregate(records)
    assert set(scores) == set(QUALITY_DIMENSIONS)
    good = _by(records, "good")
    assert all(r.error is None for r in good.values())


def test_flow_models_reject_frames_too_small(tmp_path, vbench_cache):
    tiny = write_video(tmp_path / "small-0.mp4", render_frames("square", 9, 40, 48))
    session = ScoringSession(
        ["motion_smoothness", "dynamic_degree"], scoring_weights="local", cache_dir=vbench_cache
    )
    rows = {r.dimension: r for r in session.score(VideoToScore(tiny, "small"))}
    assert "too small for AMT's 4-level correlation pyramid" in rows["motion_smoothness"].error
    assert "too small for RAFT's 4-level correlation pyramid" in rows["dynamic_degree"].error


def test_broken_fps_header_is_an_error_row(bad_folder, monkeypatch):
    session = ScoringSession(
        ["dynamic_degree", "temporal_flickering"], scoring_weights="tiny-random"
    )
    monkeypatch.setattr(DecodedVideo, "cv2_fps", lambda self: float("nan"))
    rows = {r.dimension: r for r in session.score(VideoToScore(bad_folder["good"], "x"))}
    assert "invalid frame rate" in rows["dynamic_degree"].error
    assert rows["temporal_flickering"].error is None


def test_cv2_and_decord_give_the_same_rgb_pixels(bad_folder):
    video = DecodedVideo(bad_folder["good"])
    assert np.array_equal(video.cv2_rgb(), video.decord_rgb())
