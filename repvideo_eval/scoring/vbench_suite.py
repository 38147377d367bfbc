"""Match a folder of videos to VBench's prompt suite (standard mode) or take it as is (custom).

Standard mode (VBench's `vbench_standard`): for each entry of the packaged
`VBench_full_info.json` tagged with a requested dimension, the files `{prompt_en}-{i}{ext}`,
i = 0..4, are that dimension's videos, and the entry's `auxiliary_info` goes with them. A video
is therefore only scored on the dimensions its prompt is tagged for.
Custom mode (`custom_input`): every video is scored on every requested dimension; the prompt is
the file name without extension and without a trailing `-<index>`.
"auto" picks standard when every video file name matches the suite, custom otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from repvideo_eval.errors import UserError
from repvideo_eval.registry import vbench_full_info
from repvideo_eval.scoring.records import VideoToScore

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")
SAMPLE_SUFFIX = re.compile(r"^(?P<prompt>.*)-(?P<index>\d+)$")


@dataclass(frozen=True)
class PlannedVideo:
    """A video and the dimensions it is scored on."""

    video: VideoToScore
    dimensions: tuple[str, ...]


def list_videos(videos_dir: Path) -> list[Path]:
    videos_dir = Path(videos_dir)
    if not videos_dir.is_dir():
        raise UserError(
            f"Videos folder {videos_dir} does not exist.",
            "Pass the folder that holds the generated videos.",
        )
    videos = sorted(
        p for p in videos_dir.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
    )
    if not videos:
        raise UserError(
            f"No video files ({', '.join(VIDEO_EXTENSIONS)}) in {videos_dir}.",
            "Check --videos-dir.",
        )
    return videos


def prompt_from_name(path: Path) -> str:
    """Custom mode's prompt: the file stem without a trailing `-<index>`."""
    match = SAMPLE_SUFFIX.match(path.stem)
    return match.group("prompt") if match else path.stem


def plan(
    videos_dir: Path,
    dimensions: Sequence[str],
    *,
    mode: str = "auto",
    full_info_path: Path | None = None,
) -> tuple[str, list[PlannedVideo]]:
    """(mode used, videos with their dimensions) for a folder."""
    if mode not in ("auto", "standard", "custom"):
        raise UserError(f"Unknown mode {mode!r}.", "Use auto, standard or custom.")
    videos = list_videos(videos_dir)
    if mode == "custom":
        return "custom", _custom(videos, dimensions)
    suite = list(vbench_full_info(full_info_path))
    by_name: dict[str, dict] = {}
    for entry in suite:
        for index in range(5):
            by_name.setdefault(f"{entry['prompt_en']}-{index}", entry)
    matched = [v for v in videos if v.stem in by_name]
    if mode == "auto" and len(matched) != len(videos):
        return "custom", _custom(videos, dimensions)
    if mode == "standard" and not matched:
        raise UserError(
            f"No file in {videos_dir} is named '{{prompt}}-{{i}}.mp4' after a VBench prompt.",
            "Use --mode custom.",
        )
    planned = []
    for video in matched:
        entry = by_name[video.stem]
        tagged = tuple(d for d in dimensions if d in _dimensions_of(suite, entry["prompt_en"]))
        aux = {}
        for e in suite:
            if e["prompt_en"] == entry["prompt_en"]:
                aux.update(e.get("auxiliary_info", {}))
        planned.append(
            PlannedVideo(
                VideoToScore(
                    video, entry["prompt_en"], aux, {"sample": int(video.stem.rsplit("-", 1)[1])}
                ),
                tagged,
            )
        )
    return "standard", planned


def _dimensions_of(suite: list[dict], prompt: str) -> set[str]:
    """All dimensions a prompt is tagged for (a few prompts appear in two entries)."""
    return {d for e in suite if e["prompt_en"] == prompt for d in e["dimension"]}


def _custom(videos: list[Path], dimensions: Sequence[str]) -> list[PlannedVideo]:
    return [PlannedVideo(VideoToScore(v, prompt_from_name(v)), tuple(dimensions)) for v in videos]
