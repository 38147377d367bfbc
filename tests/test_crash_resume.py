"""kill -9 of a run at exact points (`REPVIDEO_EVAL_CRASH_AT`), then reruns of the same command.

Each rerun redoes nothing that was finished (same inode and mtime for every finished file), the
run ends with the scores of an uninterrupted run, and every file and folder of the run follows
the user's umask.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from repvideo_eval.crashpoints import CRASH_AT_ENV

REPO = Path(__file__).resolve().parents[1]
UMASK = 0o027  # not the usual 022, so the modes below cannot come from a hard-coded 0644
COMMON = ("--model", "repvideo-tiny", "--suite", "smoke", "--no-progress")
# Two videos, two dimensions each: a kill can fall between videos and between dimensions.
ARGS = (*COMMON, "--limit-prompts", "2", "--dimensions", "temporal_flickering,subject_consistency")
# The reported bug at the least cost: one video, one dimension that loads no model.
FAST_ARGS = (*COMMON, "--limit-prompts", "1", "--dimensions", "temporal_flickering")


def _session_members(session: int) -> list[int]:
    """Pids of the processes in `session` (the driver's own, so only what this test started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session:  # state ppid pgrp session ...
            members.append(int(entry.name))
    return members


def run_eval(
    out: Path, crash_at: str | None = None, args: tuple[str, ...] = ARGS
) -> subprocess.CompletedProcess:
    """One run in its own session; afterwards, whatever a killed driver left behind is killed."""
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop(CRASH_AT_ENV, None)
    if crash_at:
        env[CRASH_AT_ENV] = crash_at
    driver = subprocess.Popen(
        [sys.executable, str(REPO / "run_eval.py"), *args, "--output-dir", str(out)],
        cwd=out.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        umask=UMASK,
    )
    try:
        stdout, stderr = driver.communicate(timeout=600)
    finally:
        for pid in _session_members(driver.pid):  # Ray's agents outlive a killed driver
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        driver.wait()
    return subprocess.CompletedProcess(driver.args, driver.returncode, stdout, stderr)


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def _stamps(paths: list[Path]) -> dict[Path, tuple[int, int]]:
    return {path: _stamp(path) for path in paths}


def _videos(out: Path) -> list[Path]:
    return sorted((out / "videos").rglob("*.mp4"))


def _sidecars(out: Path) -> list[Path]:
    return sorted((out / "sidecars").rglob("*.json"))


def _records(out: Path) -> list[Path]:
    return sorted((out / "scores").rglob("*.json"))


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "per_video.csv").open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _events(out: Path, event: str) -> list[str]:
    keys = []
    for manifest in (out / "manifests").glob("*.jsonl"):
        for line in manifest.read_text().splitlines():
            record = json.loads(line) if line.endswith("}") else {}
            if record.get("event") == event:
                keys.append(record["key"])
    return keys


def _killed(result: subprocess.CompletedProcess) -> bool:
    return result.returncode == -signal.SIGKILL


def _assert_modes_follow_umask(out: Path) -> None:
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        expected = (0o777 if path.is_dir() else 0o666) & ~UMASK
        assert mode == expected, f"{path.relative_to(out)}: {oct(mode)} != {oct(expected)}"


def test_killed_after_a_sidecar_the_rerun_keeps_the_finished_video(tmp_path: Path) -> None:
    """The reported bug: the item was finished on disk, but its manifest line never came."""
    out = tmp_path / "run"
    first = run_eval(out, crash_at="sidecar-written:1", args=FAST_ARGS)
    assert _killed(first), first.stderr[-3000:]
    (video,), (sidecar,) = _videos(out), _sidecars(out)
    finished = _stamps([video, sidecar])
    assert _events(out, "done") == []  # the driver died before logging the item

    second = run_eval(out, args=FAST_ARGS)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _stamps([video, sidecar]) == finished  # not generated again
    assert _events(out, "found") == [f"{video.parent.name}/{video.stem}"]
    assert _videos(out) == [video]
    (row,) = _rows(out)
    assert row["dimension"] == "temporal_flickering" and row["score"] and not row["error"]
    _assert_modes_follow_umask(out)


@pytest.mark.slow
def test_kills_at_every_point_then_rerun_match_an_uninterrupted_run(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    assert run_eval(reference).returncode == 0

    out = tmp_path / "run"
    # 1. Killed once the first video and its sidecar are on disk.
    assert _killed(run_eval(out, crash_at="sidecar-written:1"))
    first_pair = _stamps(_videos(out) + _sidecars(out))
    assert len(first_pair) == 2

    # 2. Killed once the second video has landed, before its sidecar: it is not finished.
    assert _killed(run_eval(out, crash_at="video-written:1"))
    assert _stamps(list(first_pair)) == first_pair
    assert len(_videos(out)) == 2 and len(_sidecars(out)) == 1

    # 3. Killed after the first score record: the second video is made again, then scoring starts.
    assert _killed(run_eval(out, crash_at="score-written:1"))
    generated = _stamps(_videos(out) + _sidecars(out))
    assert len(generated) == 4
    assert {p: generated[p] for p in first_pair} == first_pair
    (first_record,) = _records(out)
    scored = _stamps([first_record])

    # 4. The same command again finishes the rest and redoes nothing.
    last = run_eval(out)
    assert last.returncode == 0, last.stderr[-3000:]
    assert _stamps(list(generated)) == generated
    assert _stamps([first_record]) == scored
    assert len(_records(out)) == 4

    assert _rows(out) == _rows(reference)
    assert [r["score"] for r in _rows(out)] and all(r["score"] for r in _rows(out))
    _assert_modes_follow_umask(out)


# `score` on a folder of two videos, one dimension that loads no model: two records.
SCORE_ARGS = (
    "score", "--mode", "custom", "--scoring-weights", "tiny-random",
    "--dimensions", "temporal_flickering", "--no-progress",
)  # fmt: skip


def test_score_killed_after_a_record_then_rerun_rescores_nothing(tmp_path: Path) -> None:
    """`score` is the run's machinery: a kill -9 loses no finished record, the rerun scores only
    what is missing, and its per_video.csv is the one of an uninterrupted `score`."""
    from scoring.synthetic_videos import render_frames, write_video

    videos = tmp_path / "videos"
    write_video(videos / "first-0.mp4", render_frames("pan", 9, 32, 32))
    write_video(videos / "second-0.mp4", render_frames("static", 9, 32, 32))
    args = (*SCORE_ARGS, "--videos-dir", str(videos))

    reference, out = tmp_path / "reference", tmp_path / "scored"
    # The uninterrupted reference and the run to kill are independent: run them side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        uninterrupted = pool.submit(run_eval, reference, args=args)
        first = run_eval(out, crash_at="score-written:1", args=args)
        assert uninterrupted.result().returncode == 0
    assert _killed(first), first.stderr[-3000:]
    (record,) = _records(out)
    finished = _stamps([record])
    assert not (out / "per_video.csv").exists()

    second = run_eval(out, args=args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert _stamps([record]) == finished  # not scored again
    assert len(_records(out)) == 2
    scored_now = [k for k in _events(out, "done") if k.startswith("videos/")]
    assert len(scored_now) == 1 and Path(record).stem not in scored_now[0]
    assert _rows(out) == _rows(reference)
    assert all(r["score"] and not r["error"] for r in _rows(out))
    _assert_modes_follow_umask(out)
