"""A per-video pixel budget: a video whose frames would decode to more than the budget is an error
row naming the flag that raises it, decided from the header before any frame is decoded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repvideo_eval.scoring.decode import DEFAULT_MAX_VIDEO_PIXELS, DecodedVideo, VideoDecodeError

from .synthetic_videos import render_frames, write_video

REPO = Path(__file__).resolve().parents[2]
#: 14 black 8192x8192 frames, H.264, 198 KB: 940 M pixels, 2.8 GB of RGB once decoded. Made with
#: ffmpeg's lavfi `color=black:s=8192x8192:r=8`, 14 frames, libx264 ultrafast, yuv420p.
HUGE = Path(__file__).parent / "data" / "black-14x8192x8192.mp4"


def test_the_budget_is_checked_from_the_header_for_both_decoders(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v-0.mp4", render_frames("square", 9, 32, 64))
    pixels = 9 * 32 * 64
    for decoder in ("cv2", "decord"):
        assert DecodedVideo(video, max_pixels=pixels).frames(decoder).shape == (9, 32, 64, 3)
        with pytest.raises(VideoDecodeError, match="--max-video-pixels") as refused:
            DecodedVideo(video, max_pixels=pixels - 1).frames(decoder)
        assert f"{pixels:,} pixels" in str(refused.value)


def test_the_default_budget_fits_the_largest_generated_videos() -> None:
    # HunyuanVideo's 129 frames at 720x1280, the largest output of a registered family.
    assert 129 * 720 * 1280 < DEFAULT_MAX_VIDEO_PIXELS < 14 * 8192 * 8192


def test_a_huge_small_file_is_an_error_row_within_little_memory(tmp_path: Path) -> None:
    """Scoring the 198 KB file decoded 2.9 GB before the budget; now it costs what an ordinary
    small video does (the process's peak RSS is bounded well below one decoded copy)."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from repvideo_eval.scoring import ScoringSession, VideoToScore\n"
        "session = ScoringSession(['temporal_flickering', 'subject_consistency'],"
        " scoring_weights='tiny-random')\n"
        "records = session.score(VideoToScore(path=Path(sys.argv[1]), prompt='black'))\n"
        # VmHWM belongs to this process's own memory map; ru_maxrss would carry over the peak of
        # the pytest process it was forked from (Linux keeps it across exec).
        "status = Path('/proc/self/status').read_text().splitlines()\n"
        "peak = next(int(l.split()[1]) * 1024 for l in status if l.startswith('VmHWM:'))\n"
        "print(json.dumps({'peak': peak, 'errors': [r.error for r in records]}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "VBENCH_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", script, str(HUGE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result["errors"]) == 2
    assert all(e and "over the budget" in e and "--max-video-pixels" in e for e in result["errors"])
    one_decoded_copy = 14 * 8192 * 8192 * 3
    assert result["peak"] < one_decoded_copy / 2, result["peak"]
