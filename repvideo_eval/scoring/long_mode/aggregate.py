"""How VBench-Long combines clip scores into a video's and a dimension's score.

vbench2_beta_long (`utils.reorganize_clips_results`) groups clip results by a key built from
the clip path: `<path before "filtered_clips">/<basename up to the first "_">.mp4`. Only the
static-filtered temporal_flickering clips live under a `filtered_clips` folder, so:

* every other dimension: the key contains the whole clip path, each clip is its own group, and
  the dimension score is the plain **mean over all clips of all videos** (a video with 4 clips
  counts 4 times; for the consistency dimensions the frame-pair weighting of standard VBench
  is gone as well);
* temporal_flickering after the static filter: clips group by long video, the dimension score is
  the mean over long videos of the mean of their kept clips;
* imaging_quality: divided by 100 (our clip scores are already on the 0..1 scale).

Our records keep one row per long video: `score` = mean of its clip scores and
`aggregation_weight` = its number of clips (1 for filtered temporal_flickering), so the engine's
usual sum(score * w) / sum(w) over aggregation weights gives vbench's number.

Slow-fast consistency (`utils.fuse_inclip_clip2clip`): the first frame of every clip of a video
(clips sorted by name) makes a short "fast" video, scored with a consistency model; that clip2clip
score is mapped onto the in-clip scale through a 0.00..0.99 table (`bisect_left`, linear
interpolation between neighbouring keys, clamped at both ends) and each clip's score becomes
w_inclip * inclip + w_clip2clip * mapped, or stays inclip when the mapped value is exactly 0
(which is also what a one-clip video gets: vbench looks its missing fast score up as 0).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repvideo_eval.scoring.long_mode.slow_fast_tables import MAPPING_TABLES, SLOW_FAST_WEIGHTS

SLOW_FAST_DIMENSIONS = ("subject_consistency", "background_consistency")


def mean_of_clips(scores: Sequence[float]) -> float:
    """A long video's score: the unweighted mean of its clips' scores."""
    if not scores:
        raise ValueError("no clip scores to combine")
    return sum(scores) / len(scores)


def map_clip2clip(score: float, table: Mapping[float, float]) -> float:
    """vbench's table lookup: clamp outside the keys, interpolate linearly between them."""
    keys = sorted(table)
    index = bisect_left(keys, score)
    if index == 0:
        return table[keys[0]]
    if index == len(keys):
        return table[keys[-1]]
    k0, k1 = keys[index - 1], keys[index]
    return table[k0] + (table[k1] - table[k0]) * (score - k0) / (k1 - k0)


@dataclass(frozen=True)
class SlowFastResult:
    """Fused clip scores of one video and the intermediate values vbench records."""

    video_score: float
    clip_scores: list[float]
    clip2clip_score: float
    mapped_clip2clip_score: float


def fuse_slow_fast(
    inclip_scores: Sequence[float],
    clip2clip_score: float | None,
    dimension: str,
    *,
    fusion_weights: tuple[float, float] | None = None,
    table: Mapping[float, float] | None = None,
) -> SlowFastResult:
    """vbench `fuse_inclip_clip2clip` for one video (None clip2clip = no fast video, as 1 clip).

    `fusion_weights` = (w_inclip, w_clip2clip); default: slow_fast_params.yaml's (`--dev_flag`).
    Without `--dev_flag` vbench uses (1.0, 0.0), i.e. the in-clip scores unchanged.
    """
    w_inclip, w_clip2clip = (
        fusion_weights if fusion_weights is not None else SLOW_FAST_WEIGHTS[dimension]
    )
    fast = 0.0 if clip2clip_score is None else float(clip2clip_score)
    mapped = map_clip2clip(fast, table if table is not None else MAPPING_TABLES[dimension])
    fused = [s * w_inclip + mapped * w_clip2clip if mapped != 0.0 else s for s in inclip_scores]
    return SlowFastResult(mean_of_clips(fused), fused, fast, mapped)
