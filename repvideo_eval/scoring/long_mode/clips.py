"""How VBench-Long cuts a video into clips: clip length per prompt, fixed-length clips, scene cuts.

What `vbench2_beta_long` (VBench++ code in vbench 0.1.5 / Vchitect/VBench 45e79ec) does:

* Mode: the VBench FAQ says VBench for videos shorter than 5.0 s, VBench-Long for 5.0 s or more.
* Clip length (`configs/clip_length_mix.yaml`, the default `--clip_length_config`): 2 s for
  every dimension except human_action, temporal_style and overall_consistency (10 s, because
  UMT and ViCLIP were trained on longer clips). A video's clip length is the **maximum** over all
  dimensions its prompt is tagged with in VBench_full_info.json (over every entry with that
  prompt), whichever dimension is being evaluated, truncated by `int()`. Custom prompts
  (`long_custom_input`) use 2 s.
* Fixed-length split (`utils.split_video_into_clips`): fps = int(decord's average fps),
  segment = fps * seconds frames. Fewer frames than one segment: one clip, the whole video
  (`<name>_full.mp4`). Otherwise `len // segment` back-to-back clips, and when frames remain a
  last clip of exactly `segment` frames that ends at the last frame (it overlaps the previous
  one). E.g. 49 frames at 8 fps, 2 s: [0,16), [16,32), [32,48), [33,49).
* Scene cuts (`--use_semantic_splitting`, off in the official `evaluate_long.sh`): PySceneDetect's
  ContentDetector with threshold 35.0 (its other settings default, min_scene_len 15 frames); when
  it finds cuts, each scene is saved as a video and split into fixed-length clips as above.
* Clips are re-encoded files (torchvision `write_video`: libx264, yuv420p, x264 defaults, i.e.
  CRF 23) at int(fps); the dimensions then read those files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from repvideo_eval.errors import UserError
from repvideo_eval.vocabulary import LONG_MODE, LONG_MODES, STANDARD_MODE

#: configs/clip_length_mix.yaml (the default) and the alternatives shipped beside it, in seconds.
CLIP_LENGTH_CONFIGS: dict[str, dict[str, float]] = {
    "mix": {
        **{
            d: 2.0
            for d in (
                "subject_consistency",
                "background_consistency",
                "motion_smoothness",
                "temporal_flickering",
                "dynamic_degree",
                "imaging_quality",
                "aesthetic_quality",
                "object_class",
                "multiple_objects",
                "color",
                "spatial_relationship",
                "scene",
                "appearance_style",
            )
        },
        "human_action": 10.0,
        "temporal_style": 10.0,
        "overall_consistency": 10.0,
    },
}
for _name, _seconds in (("short", 2.0), ("1.0", 1.0), ("0.5", 0.5)):
    CLIP_LENGTH_CONFIGS[_name] = {d: _seconds for d in CLIP_LENGTH_CONFIGS["mix"]}

CUSTOM_CLIP_SECONDS = 2
LONG_MODE_MIN_SECONDS = 5.0
SCENE_THRESHOLD = 35.0


def is_long_mode(mode: str) -> bool:
    """Clips are scored (VBench-Long) in both long variants."""
    return mode in LONG_MODES


def long_consistency(mode: str) -> Literal["inclip", "slow-fast"]:
    """The LongModeSession consistency variant of a long run mode."""
    return "slow-fast" if mode == LONG_MODE else "inclip"


def default_vbench_mode(num_frames: int, fps: float) -> str:
    """ "long" for videos of 5.0 s or more (VBench FAQ), else "standard". CogVideoX: 49/8 = 6.1 s."""
    if fps <= 0:
        raise UserError(f"Invalid frame rate {fps}.", "Pass the video's real frame rate.")
    return LONG_MODE if num_frames / fps >= LONG_MODE_MIN_SECONDS else STANDARD_MODE


def prompt_dimensions(prompt: str, full_info: Iterable[Mapping]) -> set[str]:
    """Every dimension any VBench_full_info.json entry with exactly this prompt is tagged with."""
    return {d for entry in full_info if entry["prompt_en"] == prompt for d in entry["dimension"]}


def clip_seconds_for_prompt(prompt: str, full_info: Iterable[Mapping], config: str = "mix") -> int:
    """vbench `get_duration_from_json` + `int()`: max clip length over the prompt's dimensions.

    A prompt outside the suite gets 2 s, as vbench's custom-input mode (vbench's standard mode
    would crash on it instead).
    """
    lengths = CLIP_LENGTH_CONFIGS[config]
    values = [lengths[d] for d in prompt_dimensions(prompt, full_info) if d in lengths]
    return int(max(values)) if values else CUSTOM_CLIP_SECONDS


@dataclass(frozen=True)
class ClipRange:
    """Frames [start, end) of the source video (of one scene when `scene` is set)."""

    start: int
    end: int
    name: str
    scene: int | None = None


def clip_ranges(
    num_frames: int, fps: int, seconds: int, *, offset: int = 0, stem: str = "clip"
) -> list[ClipRange]:
    """vbench `split_video_into_clips` as frame ranges (see module docstring), names included."""
    segment = int(fps) * int(seconds)
    if segment <= 0:
        raise UserError(
            f"Clip length {seconds} s at {fps} fps gives no frames.",
            "Use a clip length of at least 1 s.",
        )
    if num_frames < segment:
        return [ClipRange(offset, offset + num_frames, f"{stem}_full")]
    count, remaining = divmod(num_frames, segment)
    ranges = [
        ClipRange(offset + i * segment, offset + (i + 1) * segment, f"{stem}_{i:03d}")
        for i in range(count)
    ]
    if remaining:
        start = max(0, count * segment - (segment - remaining))
        ranges.append(ClipRange(offset + start, offset + num_frames, f"{stem}_{count:03d}"))
    return ranges


def detect_scenes(path: Path, threshold: float = SCENE_THRESHOLD) -> list[tuple[int, int]]:
    """Scene frame ranges [start, end) from PySceneDetect's ContentDetector; [] when no cut is found.

    Same call as vbench's `split_video_into_scenes` (open_video, SceneManager, ContentDetector
    with only `threshold` set). Needs the `scenedetect` package (install it with `--no-deps` to
    keep opencv-python-headless; it only needs click, platformdirs, numpy, tqdm besides cv2).
    """
    try:
        from scenedetect import ContentDetector, SceneManager, open_video
    except ImportError:
        raise UserError(
            "Scene-cut splitting needs PySceneDetect.", "pip install --no-deps scenedetect"
        ) from None
    video = open_video(str(path))
    manager = SceneManager()
    manager.add_detector(ContentDetector(threshold=threshold))
    manager.detect_scenes(video, show_progress=False)
    return [
        (int(start.get_frames()), int(end.get_frames())) for start, end in manager.get_scene_list()
    ]


def plan_clips(
    num_frames: int, fps: int, seconds: int, stem: str, scenes: list[tuple[int, int]] | None = None
) -> list[ClipRange]:
    """All clips of one video: per scene (`<stem>-Scene-<i>_<k>`) when cuts were found, else whole."""
    if not scenes:
        return clip_ranges(num_frames, fps, seconds, stem=stem)
    planned: list[ClipRange] = []
    for index, (start, end) in enumerate(scenes):
        for clip in clip_ranges(
            end - start, fps, seconds, offset=start, stem=f"{stem}-Scene-{index}"
        ):
            planned.append(ClipRange(clip.start, clip.end, clip.name, scene=index))
    return planned
