"""VBench-Long (vbench2_beta_long) as a wrapper over the scoring engine; see docs/vbench_protocols.md.

Public API:
    default_vbench_mode(num_frames, fps) -> "standard" | "long"
    VBENCH_MODES (vocabulary's), is_long_mode(mode), long_consistency(mode): run modes ("long-inclip" = no --dev_flag)
    LongModeSession(dimensions, *, device, scoring_weights, cache_dir, clip_seconds=None, ...).score(video)
    long_flicker_clips(session, videos_by_prompt) -> clip paths per prompt for the static filter
"""

from repvideo_eval.scoring.long_mode.aggregate import fuse_slow_fast, map_clip2clip, mean_of_clips
from repvideo_eval.scoring.long_mode.clips import (
    CLIP_LENGTH_CONFIGS,
    clip_ranges,
    clip_seconds_for_prompt,
    default_vbench_mode,
    detect_scenes,
    is_long_mode,
    long_consistency,
    plan_clips,
)
from repvideo_eval.scoring.long_mode.session import (
    Clip,
    LongModeSession,
    SplitVideo,
    long_flicker_clips,
)
from repvideo_eval.vocabulary import VBENCH_MODES

__all__ = [
    "CLIP_LENGTH_CONFIGS",
    "VBENCH_MODES",
    "Clip",
    "LongModeSession",
    "SplitVideo",
    "clip_ranges",
    "clip_seconds_for_prompt",
    "default_vbench_mode",
    "detect_scenes",
    "fuse_slow_fast",
    "is_long_mode",
    "long_consistency",
    "long_flicker_clips",
    "map_clip2clip",
    "mean_of_clips",
    "plan_clips",
]
