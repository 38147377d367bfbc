"""VBench's static filter for temporal_flickering: keep the first 5 static videos of each prompt.

temporal_flickering only means something on videos that barely move, so VBench samples 25
videos per temporal_flickering prompt and keeps, per prompt, the first 5 that its RAFT-based
filter calls static (`vbench/cli/static_filter.py`, identical in
`vbench2_beta_long/static_filter.py`). What vbench does, reproduced here:

1. Frames: OpenCV, BGR->RGB, float 0..255, every frame (no stride, unlike dynamic_degree).
2. Pairs, in this order: every consecutive pair (i, i+1), then (first, last), then (last, first).
3. Per pair: replicate-pad both frames to a multiple of 8 (RAFT's InputPadder, 'sintel' split),
   RAFT-large, 20 iterations, test_mode; score = float32 mean of the top `int(h*w*0.02)` flow
   magnitudes over the *padded* h*w grid (the padding is part of the field vbench ranks).
4. thres = 3 * min(H, W) / 256 on the unpadded frame; count_num = round(2 * N / 16) with
   Python's round (banker's: N = 8 -> 1, N = 24 -> 3, N = 4 -> 0), N = number of frames.
5. Static iff the number of consecutive pairs above thres never exceeds count_num, and both
   wrap-around pairs stay <= thres * count_num * 2. Quirk kept: with count_num == 0 the
   wrap-around limit is 0, so any non-zero first/last flow makes the video "not static".
6. Selection: all `*.mp4` paths sorted as strings (so `-0, -1, -10, -11, ..., -19, -2, -20, ...`),
   prompt from the filename; a prompt stops being inspected once it has 5 static videos. The
   kept videos are renamed `{prompt}-{rank}.mp4` by vbench; here the caller gets the paths.

Where we differ on purpose: a video that cannot be decoded gets a decision with `error` set and
verdict False (vbench crashes the whole run). So does a video whose padded frames are smaller
than 2 cells at RAFT's coarsest correlation level (< 128 px for RAFT-large): there vbench's
sampler divides by zero, every score is NaN and, NaN comparisons being false, vbench calls the
video static. Every decision is a JSON-able record. RAFT's loading comes from the scoring
engine (`models.raft.load_raft`), and so does the flow loop (`models.raft.raft_flows`), shared
with dynamic_degree (which scores consecutive pairs at top-5 %; the filter arbitrary pairs at 2 %).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from repvideo_eval.scoring.decode import (
    DEFAULT_MAX_VIDEO_PIXELS,
    DecodedVideo,
    VideoDecodeError,
    min_side_for_pyramid,
)
from repvideo_eval.scoring.models.loading import batch_size_for
from repvideo_eval.scoring.models.raft import raft_flows, raft_input
from repvideo_eval.scoring.preprocess import pad_amounts
from repvideo_eval.vocabulary import DEFAULT_SCORING_WEIGHTS

TOP_FRACTION = 0.02
KEEP_PER_PROMPT = 5


@dataclass(frozen=True)
class StaticDecision:
    """The static filter's verdict on one video, with everything needed to audit it."""

    video: str
    static: bool
    pair_scores: list[float] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)
    thres: float | None = None
    count_num: int | None = None
    consecutive_above: int | None = None
    num_frames: int = 0
    height: int = 0
    width: int = 0
    weights_id: str = ""
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict (lists, numbers, strings) for the run's records."""
        data = asdict(self)
        data["pairs"] = [list(p) for p in self.pairs]
        return data


def static_params(height: int, width: int, num_frames: int) -> tuple[float, int]:
    """(thres, count_num) as vbench's `set_params`: 3*min(H,W)/256 and round(2*N/16)."""
    return 3.0 * (min(height, width) / 256.0), round(2 * (num_frames / 16.0))


def filter_pairs(num_frames: int) -> list[tuple[int, int]]:
    """Frame index pairs in vbench's order: consecutive pairs, then (first, last), (last, first)."""
    last = num_frames - 1
    return [(i, i + 1) for i in range(last)] + [(0, last), (last, 0)]


def top_fraction_score(flow: np.ndarray, fraction: float = TOP_FRACTION) -> float:
    """vbench `get_score`: float32 mean of the top `int(h*w*fraction)` magnitudes of a (2, h, w) field."""
    u, v = flow[0], flow[1]
    rad = np.sqrt(np.square(u) + np.square(v))
    height, width = rad.shape
    cut = int(height * width * fraction)
    return np.mean(abs(np.sort(-rad.flatten()))[:cut]).item()


def count_consecutive_above(pair_scores: Sequence[float], thres: float) -> int:
    """How many consecutive-pair scores (all but the last two) exceed thres."""
    return sum(1 for s in pair_scores[:-2] if s > thres)


def is_static(pair_scores: Sequence[float], thres: float, count_num: int) -> bool:
    """vbench `check_static` on scores in `filter_pairs` order (wrap-around pairs last).

    Written with `>` like vbench, so a NaN score never counts as motion.
    """
    if count_consecutive_above(pair_scores, thres) > count_num:
        return False
    return not any(s > thres * count_num * 2 for s in pair_scores[-2:])


def raft_pair_scores(
    model: torch.nn.Module,
    frames_rgb: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    *,
    device: str = "cpu",
    batch_size: int = 8,
    fraction: float = TOP_FRACTION,
) -> list[float]:
    """Top-`fraction` flow score of each (i, j) pair of (N, H, W, 3) RGB uint8 frames.

    Same computation as `RAFT.forward(image_i, image_j, iters=20, test_mode=True)` on padded
    0..255 frames (`models.raft.raft_flows`, `batch_size` pairs at a time).
    """
    images = raft_input(frames_rgb)
    scores: list[float] = []
    for start in range(0, len(pairs), batch_size):
        flows = raft_flows(model, images, list(pairs[start : start + batch_size]), device)
        scores.extend(top_fraction_score(flow, fraction) for flow in flows)
    return scores


def static_decision(
    frames_or_path: np.ndarray | str | Path,
    raft: torch.nn.Module,
    *,
    device: str = "cpu",
    weights_id: str = "",
    video: str | None = None,
    max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS,
) -> StaticDecision:
    """Decide whether one video is static, as vbench's `StaticFilter.infer`.

    `frames_or_path`: (N, H, W, 3) RGB uint8 frames, or a video file (decoded with OpenCV and
    converted to RGB, as vbench does). Never raises for a bad video: the decision carries the
    reason in `error` and `static=False`.
    """
    name = (
        video
        if video is not None
        else (str(frames_or_path) if not isinstance(frames_or_path, np.ndarray) else "")
    )
    try:
        frames = (
            frames_or_path
            if isinstance(frames_or_path, np.ndarray)
            else np.ascontiguousarray(
                DecodedVideo(Path(frames_or_path), max_video_pixels).cv2_rgb()
            )
        )
    except VideoDecodeError as exc:
        return StaticDecision(video=name, static=False, weights_id=weights_id, error=str(exc))
    num, height, width = int(frames.shape[0]), int(frames.shape[1]), int(frames.shape[2])
    base: dict[str, Any] = dict(
        video=name, num_frames=num, height=height, width=width, weights_id=weights_id
    )
    if num < 2:
        return StaticDecision(
            static=False,
            error=f"the static filter needs at least 2 frames, the video has {num}",
            **base,
        )
    left, right, top, bottom = pad_amounts(height, width, 8)
    # RAFT's bilinear sampler divides by (side - 1) of each pyramid level, so the coarsest level
    # needs 2 cells: below that vbench gets NaN scores (and calls the video static).
    needed = min_side_for_pyramid(getattr(raft.args, "corr_levels", 4))
    if min(height + top + bottom, width + left + right) < needed:
        return StaticDecision(
            static=False,
            error=f"frames of {width}x{height} px are too small for RAFT (needs >= {needed} px after padding)",
            **base,
        )
    thres, count_num = static_params(height, width, num)
    pairs = filter_pairs(num)
    scores = raft_pair_scores(
        raft, frames, pairs, device=device, batch_size=batch_size_for(device, 8)
    )
    return StaticDecision(
        static=is_static(scores, thres, count_num),
        pair_scores=scores,
        pairs=pairs,
        thres=thres,
        count_num=count_num,
        consecutive_above=count_consecutive_above(scores, thres),
        **base,
    )


def vbench_order(paths: Sequence[str | Path]) -> list[str]:
    """Paths in the order vbench inspects them: `sorted()` on the path strings.

    vbench sorts `glob(videos_path/*.mp4)` (or `split_clip/*/*.mp4` in VBench-Long), i.e. whole
    paths as strings, so `-1.mp4 < -10.mp4 < -19.mp4 < -2.mp4`. Give paths with the same
    layout as vbench's (one folder; or `<stem>/<stem>_<k>.mp4` for clips) to get its order.
    """
    return sorted(str(p) for p in paths)


def select_flicker_videos(
    paths_by_prompt: Mapping[str, Sequence[str | Path]],
    decide: Callable[[str], StaticDecision],
    *,
    keep: int = KEEP_PER_PROMPT,
) -> tuple[dict[str, list[str]], dict[str, list[StaticDecision]]]:
    """The first `keep` static videos of each prompt in vbench's order, and every decision made.

    As vbench with `--filter_scope temporal_flickering`, a prompt's remaining videos are not
    inspected once it has `keep` static ones, so `decisions[prompt]` lists only the videos the
    filter actually ran on (in order). A prompt with fewer than `keep` static videos keeps what
    it found (vbench logs a warning and carries on).
    """
    kept: dict[str, list[str]] = {}
    decisions: dict[str, list[StaticDecision]] = {}
    for prompt, paths in paths_by_prompt.items():
        kept[prompt], decisions[prompt] = [], []
        for path in vbench_order(paths):
            if len(kept[prompt]) >= keep:
                break
            decision = decide(path)
            decisions[prompt].append(decision)
            if decision.static:
                kept[prompt].append(path)
    return kept, decisions


def decisions_to_json(
    decisions: Mapping[str, Sequence[StaticDecision]],
) -> dict[str, list[dict[str, Any]]]:
    """All decisions of a selection as plain JSON data, per prompt, in inspection order."""
    return {prompt: [d.to_json() for d in items] for prompt, items in decisions.items()}


class StaticFilter:
    """Worker-friendly static filter: RAFT loaded once, then `decide(path)` per video.

    `scoring_weights`: "official" (raft-things.pth from VBENCH_CACHE_DIR, checksum enforced), "local"
    (that file as it is) or "tiny-random[:seed=N]" (a seeded RAFT-small, offline smoke runs;
    its verdicts mean nothing). Same modes and cache layout as `ScoringSession`.
    """

    def __init__(
        self,
        *,
        device: str = "cpu",
        scoring_weights: str = DEFAULT_SCORING_WEIGHTS,
        cache_dir: Path | None = None,
        max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS,
    ) -> None:
        from repvideo_eval.devices import resolve_device
        from repvideo_eval.scoring.models.raft import load_raft
        from repvideo_eval.scoring.scorer import ScorerContext
        from repvideo_eval.scoring.session import scoring_weights_mode

        mode, seed = scoring_weights_mode(scoring_weights)
        device = resolve_device(device)
        self.device = device
        context = ScorerContext(
            device=device,
            scoring_weights=mode,
            cache_dir=Path(cache_dir) if cache_dir else None,
            seed=seed,
            max_video_pixels=max_video_pixels,
        )
        self.context = context
        self.model, self.weights_id = load_raft(context)

    def decide(self, path: str | Path) -> StaticDecision:
        """The decision on one video file."""
        return static_decision(
            path,
            self.model,
            device=self.device,
            weights_id=self.weights_id,
            max_video_pixels=self.context.max_video_pixels,
        )

    def select(
        self, paths_by_prompt: Mapping[str, Sequence[str | Path]], *, keep: int = KEEP_PER_PROMPT
    ) -> tuple[dict[str, list[str]], dict[str, list[StaticDecision]]]:
        """`select_flicker_videos` with this filter's RAFT."""
        return select_flicker_videos(paths_by_prompt, self.decide, keep=keep)
