"""Blindness of the video route: nothing in a video response tells which model made it.

In a run the two arms are generated one after the other, so anything derived from the file's time
(Last-Modified, Starlette's mtime ETag) would tell a rater which video is which. Here the two arms
hold the same bytes but different file times and folders: every header of the two videos of each
task must then be identical, for whole files, HEAD, byte ranges and If-Range.
"""

from __future__ import annotations

import os
import re
from email.utils import formatdate
from pathlib import Path

from starlette.testclient import TestClient

from repvideo_eval.study.app import create_app
from tests.study.conftest import MODEL_A, MODEL_B, create, rows, write_runs

ARM_TIMES = {MODEL_A: 1_700_000_000, MODEL_B: 1_700_000_097}  # B generated 97 s after A
VIDEO_ID = re.compile(r"/video/[A-Za-z0-9_-]{16}")


def headers_of(response) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in response.headers.multi_items())


def requests_for(client: TestClient, url: str) -> dict[str, list[tuple[str, str]]]:
    """Every way a browser asks for a video, with the answer's status and headers."""
    answers = {
        "get": client.get(url),
        "head": client.head(url),
        "range": client.get(url, headers={"range": "bytes=0-9"}),
        "open range": client.get(url, headers={"range": "bytes=100-"}),
        "if-range": client.get(url, headers={"range": "bytes=0-9", "if-range": '"x"'}),
    }
    return {
        kind: [("status", str(response.status_code)), *headers_of(response)]
        for kind, response in answers.items()
    }


def test_every_header_of_both_videos_of_every_task_is_the_same(tmp_path):
    run = write_runs(tmp_path / "run", prompts=2, samples=1)
    for model, when in ARM_TIMES.items():
        for video in (run / "videos").glob(f"{model}-*/*.mp4"):
            os.utime(video, (when, when))
    study = tmp_path / "study"
    assert create([run], study, "--raters", "1", "--repeats", "1") == 0
    tasks = rows(study, "SELECT left_video, right_video FROM tasks")
    paths = dict(rows(study, "SELECT video_id, path FROM videos"))
    leaks = [MODEL_A, MODEL_B, "videos/", str(run)]
    leaks += [formatdate(when, usegmt=True) for when in ARM_TIMES.values()]
    leaks += [str(when) for when in ARM_TIMES.values()]
    with TestClient(create_app(study)) as client:
        for left, right in tasks:
            seen = {}
            for video_id in (left, right):
                url = f"/video/{video_id}"
                assert VIDEO_ID.fullmatch(url), "video ids are opaque random tokens"
                seen[video_id] = requests_for(client, url)
                text = repr(seen[video_id])
                assert not [leak for leak in leaks if leak in text], text
                assert "last-modified" not in text
                whole = client.get(url)
                assert whole.status_code == 200
                assert whole.content == Path(paths[video_id]).read_bytes()
            assert seen[left] == seen[right], "the two arms' responses differ"
            assert dict(seen[left]["range"])["status"] == "206"
