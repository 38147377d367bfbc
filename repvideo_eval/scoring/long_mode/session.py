"""`LongModeSession`: VBench-Long scoring as a wrapper over the engine's `ScoringSession`.

Per video: decode once (decord, as vbench's `load_video`), optionally cut scenes, cut fixed-
length clips (`clips.py`), write each clip as an H.264 file like vbench does, score every clip
with the wrapped `ScoringSession`, and return one record per dimension whose score combines the
clip scores as vbench2_beta_long does (`aggregate.py`). Records carry `details["vbench_mode"] ==
"long"` and the list of clips with their scores.

temporal_flickering: VBench-Long runs the static filter on *clips* (first 5 static clips per
prompt over all of the prompt's videos, in vbench's path order). That choice spans videos, so
the caller makes it (`long_flicker_clips` + `static_filter.select_flicker_videos`) and passes a
video's kept clips to `score(..., flicker_clips=...)`; without it every clip is scored
(vbench-long without `--static_filter_flag`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from repvideo_eval.atomic import write_text_atomic, write_with_atomic
from repvideo_eval.errors import UserError
from repvideo_eval.scoring.decode import DecodedVideo, VideoDecodeError
from repvideo_eval.scoring.long_mode.aggregate import (
    SLOW_FAST_DIMENSIONS,
    fuse_slow_fast,
    mean_of_clips,
)
from repvideo_eval.scoring.long_mode.clips import (
    CLIP_LENGTH_CONFIGS,
    SCENE_THRESHOLD,
    clip_seconds_for_prompt,
    detect_scenes,
    plan_clips,
)
from repvideo_eval.scoring.long_mode.fast_consistency import FAST_EXTRACTORS, FastConsistency
from repvideo_eval.scoring.records import ScoreRecord, VideoToScore
from repvideo_eval.scoring.scorer import BACKEND
from repvideo_eval.scoring.session import ScoringSession
from repvideo_eval.vocabulary import LONG_INCLIP_MODE, LONG_MODE

#: x264 defaults, as torchvision's `write_video` (PyAV, no options) encodes vbench's clips.
CLIP_CRF = 23


@dataclass(frozen=True)
class Clip:
    """One written clip of a long video: file, source frame range, scene index."""

    path: Path
    name: str
    start: int
    end: int
    scene: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


@dataclass(frozen=True)
class SplitVideo:
    """What `LongModeSession.split` produced for one video."""

    clips: list[Clip]
    fps: int
    clip_seconds: int
    scenes: list[tuple[int, int]]


def write_clip(path: Path, frames: np.ndarray, fps: int) -> None:
    """H.264 yuv420p at CRF 23 (x264's default, what vbench's torchvision writer produces)."""
    import imageio.v2 as imageio

    def encode(tmp: Path) -> None:
        imageio.mimwrite(
            str(tmp),
            list(frames),
            fps=fps,
            codec="libx264",
            pixelformat="yuv420p",
            macro_block_size=1,
            quality=None,
            output_params=["-crf", str(CLIP_CRF)],
        )
        # imageio-ffmpeg does not raise when ffmpeg refuses the input (e.g. odd sizes in
        # yuv420p): it leaves an empty file, which must not pass for a clip.
        if not tmp.is_file() or tmp.stat().st_size == 0:
            height, width = frames.shape[1:3]
            raise OSError(
                f"ffmpeg wrote no clip for {width}x{height} frames (libx264 yuv420p needs even sizes)"
            )

    write_with_atomic(path, encode)


class LongModeSession:
    """Scores videos the VBench-Long way; same `score(video) -> list[ScoreRecord]` contract.

    clip_seconds: force one clip length (seconds, int as vbench); default: per prompt from
        `clip_length_config` ("mix", vbench's default; or "short", "1.0", "0.5").
    scene_split: cut scenes with PySceneDetect first (vbench `--use_semantic_splitting`; off in
        the official evaluate_long.sh).
    consistency: "inclip" (vbench-long without --dev_flag: the clip scores as they are) or
        "slow-fast" (vbench --dev_flag, as the official evaluate_long.sh runs it: clip scores
        fused with a first-frames "fast" video score through the --dev_flag weights and tables;
        the fast video is scored with DINOv2 ViT-B/14 for subject_consistency and the DreamSim
        ensemble for background_consistency, `fast_consistency.py`). Their models load on first
        use; with scoring_weights="tiny-random" they are seeded tiny twins.
    session_options: those of the `ScoringSession` that scores the clips (device,
        scoring_weights, cache_dir, detector), passed on as they are.
    work_dir: where clips are written (`<work_dir>/<hash of source folder>/split_clip/<stem>/`,
        vbench's layout); default a temporary folder removed by `close()`.
    """

    def __init__(
        self,
        dimensions: Sequence[str],
        *,
        clip_seconds: int | None = None,
        clip_length_config: str = "mix",
        scene_split: bool = False,
        scene_threshold: float = SCENE_THRESHOLD,
        consistency: Literal["inclip", "slow-fast"] = "inclip",
        work_dir: Path | None = None,
        full_info: list[dict] | None = None,
        **session_options: Any,
    ) -> None:
        if clip_length_config not in CLIP_LENGTH_CONFIGS:
            raise UserError(
                f"Unknown clip length config {clip_length_config!r}.",
                f"Choose one of: {', '.join(CLIP_LENGTH_CONFIGS)}.",
            )
        if consistency not in ("inclip", "slow-fast"):
            raise UserError(
                f"Unknown consistency variant {consistency!r}.", "Choose 'inclip' or 'slow-fast'."
            )
        if clip_seconds is not None and int(clip_seconds) < 1:
            raise UserError(
                f"clip_seconds={clip_seconds} is below 1 s.",
                "vbench truncates clip lengths to whole seconds.",
            )
        self.inner = ScoringSession(dimensions, **session_options)
        self.dimensions = self.inner.dimensions
        self.clip_seconds = int(clip_seconds) if clip_seconds is not None else None
        self.clip_length_config = clip_length_config
        self.scene_split = scene_split
        self.scene_threshold = scene_threshold
        self.consistency = consistency
        if full_info is None:
            from repvideo_eval.registry import vbench_full_info

            full_info = list(vbench_full_info())
        self.full_info = full_info
        self._fast: dict[str, FastConsistency] = {}
        self._own_work_dir = work_dir is None
        self.work_dir = (
            Path(work_dir)
            if work_dir is not None
            else Path(tempfile.mkdtemp(prefix="vbench-long-"))
        )

    # -- clips -----------------------------------------------------------------------------
    def clip_root(self, video_path: Path) -> Path:
        """`split_clip` folder for videos of this source folder (same folder -> vbench's path order)."""
        digest = hashlib.sha1(str(Path(video_path).resolve().parent).encode()).hexdigest()[:12]
        return self.work_dir / digest / "split_clip"

    def seconds_for(self, video: VideoToScore) -> int:
        """This video's clip length in whole seconds (forced, or from its prompt's dimensions)."""
        return (
            self.clip_seconds
            if self.clip_seconds is not None
            else clip_seconds_for_prompt(video.prompt, self.full_info, self.clip_length_config)
        )

    def split(self, video: VideoToScore) -> SplitVideo:
        """Cut `video` into clip files (reused when already written for the same source and plan)."""
        decoded = DecodedVideo(video.path, self.inner.context.max_video_pixels)
        frames = decoded.decord_rgb()
        fps = int(decoded.fps())
        if fps <= 0:
            raise VideoDecodeError(
                f"invalid frame rate ({decoded.fps()}); VBench-Long needs it for the clip length"
            )
        seconds = self.seconds_for(video)
        scenes = detect_scenes(video.path, self.scene_threshold) if self.scene_split else []
        stem = Path(video.path).stem
        plan = plan_clips(len(frames), fps, seconds, stem, scenes)
        root = self.clip_root(video.path)
        stat = Path(video.path).stat()
        manifest = {
            "source": str(Path(video.path).resolve()),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "fps": fps,
            "crf": CLIP_CRF,
            "plan": [asdict(c) for c in plan],
        }
        clips = [
            Clip(root / c.name.rsplit("_", 1)[0] / f"{c.name}.mp4", c.name, c.start, c.end, c.scene)
            for c in plan
        ]
        marker = root / f".{stem}.clips.json"
        if not (
            marker.is_file()
            and json.loads(marker.read_text()) == manifest
            and all(c.path.is_file() for c in clips)
        ):
            for clip in clips:
                write_clip(clip.path, frames[clip.start : clip.end], fps)
            write_text_atomic(marker, json.dumps(manifest))
        return SplitVideo(clips, fps, seconds, scenes)

    # -- scoring ---------------------------------------------------------------------------
    def score(
        self,
        video: VideoToScore,
        dimensions: Sequence[str] | None = None,
        *,
        flicker_clips: Sequence[str | Path] | None = None,
    ) -> list[ScoreRecord]:
        """One long-mode record per dimension (errors included; never raises for a bad video)."""
        chosen = (
            list(dict.fromkeys(dimensions)) if dimensions is not None else list(self.dimensions)
        )
        try:
            split = self.split(video)
        except UserError:
            raise
        except VideoDecodeError as exc:
            return [
                self._record(video, d, None, 0.0, f"cannot split into clips: {exc}", "none", {})
                for d in chosen
            ]
        except (
            Exception
        ) as exc:  # e.g. the encoder refusing odd frame sizes: an error record, not a crash
            reason = f"cannot split into clips: {type(exc).__name__}: {str(exc)[:300]}"
            return [self._record(video, d, None, 0.0, reason, "none", {}) for d in chosen]
        per_clip = [
            self.inner.score(self._clip_item(video, clip.path), chosen) for clip in split.clips
        ]
        records = []
        for index, dimension in enumerate(chosen):
            clip_records = [(clip, rows[index]) for clip, rows in zip(split.clips, per_clip)]
            records.append(self._combine(video, dimension, split, clip_records, flicker_clips))
        return records

    def _clip_item(self, video: VideoToScore, path: Path) -> VideoToScore:
        return VideoToScore(
            path=path, prompt=video.prompt, auxiliary_info=video.auxiliary_info, key=video.key
        )

    def _combine(
        self,
        video: VideoToScore,
        dimension: str,
        split: SplitVideo,
        clip_records: list[tuple[Clip, ScoreRecord]],
        flicker_clips: Sequence[str | Path] | None,
    ) -> ScoreRecord:
        filtered = dimension == "temporal_flickering" and flicker_clips is not None
        if filtered:
            keep = {str(Path(p)) for p in flicker_clips or ()}
            clip_records = [(c, r) for c, r in clip_records if str(c.path) in keep]
        details: dict[str, Any] = {
            "vbench_mode": LONG_MODE if self.consistency == "slow-fast" else LONG_INCLIP_MODE,
            "clip_seconds": split.clip_seconds,
            "fps": split.fps,
            "scenes": [list(s) for s in split.scenes],
            "static_filtered": filtered,
            "combine": "mean over clips"
            + (
                ""
                if filtered
                else "; aggregation weight = number of clips (vbench-long averages all clips)"
            ),
            "clips": [
                {
                    **c.to_json(),
                    "score": r.score,
                    "aggregation_weight": r.aggregation_weight,
                    "error": r.error,
                }
                for c, r in clip_records
            ],
        }
        weights_id = clip_records[0][1].weights_id if clip_records else "none"
        ok = [(c, r) for c, r in clip_records if r.ok]
        if not ok:
            reason = (
                "no static clip was selected for this video"
                if filtered and not clip_records
                else (
                    f"no clip could be scored ({clip_records[0][1].error})"
                    if clip_records
                    else "no clips"
                )
            )
            return self._record(video, dimension, None, 0.0, reason, weights_id, details)
        scores = [float(r.score) for _, r in ok if r.score is not None]
        score = mean_of_clips(scores)
        if self.consistency == "slow-fast" and dimension in SLOW_FAST_DIMENSIONS:
            score = self._slow_fast(video, dimension, [c for c, _ in ok], scores, details)
        aggregation_weight = 1.0 if filtered else float(len(ok))
        return self._record(video, dimension, score, aggregation_weight, None, weights_id, details)

    def _slow_fast(
        self,
        video: VideoToScore,
        dimension: str,
        clips: list[Clip],
        scores: list[float],
        details: dict,
    ) -> float:
        """Fuse in-clip scores with the fast (first frames of each clip) video, per scene folder."""
        fused_all: list[float] = []
        groups: dict[Path, list[int]] = {}
        for i, clip in enumerate(clips):
            groups.setdefault(clip.path.parent, []).append(i)
        fast_info = []
        for folder, members in groups.items():
            members.sort(key=lambda i: clips[i].path.name)
            fast_score = None
            if len(members) > 1:
                firsts = np.stack(
                    [
                        DecodedVideo(
                            clips[i].path, self.inner.context.max_video_pixels
                        ).decord_rgb()[0]
                        for i in members
                    ]
                )
                fast_path = (
                    folder.parent.parent
                    / f"{dimension}_cat_firstframes_videos"
                    / f"{folder.name}.mp4"
                )
                write_clip(fast_path, firsts, int(details["fps"]))
                try:  # vbench reads the written fast video back with load_video (decord)
                    fast_frames = DecodedVideo(
                        fast_path, self.inner.context.max_video_pixels
                    ).decord_rgb()
                except VideoDecodeError:
                    fast_frames = None
                if fast_frames is not None and len(fast_frames) > 1:
                    fast_score = self.fast_model(dimension).score(fast_frames)
            result = fuse_slow_fast([scores[i] for i in members], fast_score, dimension)
            fused_all.extend(result.clip_scores)
            fast_info.append(
                {
                    "folder": folder.name,
                    "clip2clip_score": result.clip2clip_score,
                    "mapped_clip2clip_score": result.mapped_clip2clip_score,
                }
            )
        fast = self._fast.get(dimension)  # loaded only when some folder had a fast video
        details.update(
            consistency="slow-fast",
            slow_fast=fast_info,
            inclip_mean=mean_of_clips(scores),
            clip2clip_extractor=FAST_EXTRACTORS[dimension],
            clip2clip_weights_id=fast.weights_id if fast is not None else None,
        )
        return mean_of_clips(fused_all)

    def fast_model(self, dimension: str) -> FastConsistency:
        """The --dev_flag fast-video model of `dimension` (loaded once per session)."""
        if dimension not in self._fast:
            self._fast[dimension] = FastConsistency(dimension, self.inner.context)
        return self._fast[dimension]

    def _record(
        self,
        video: VideoToScore,
        dimension: str,
        score: float | None,
        aggregation_weight: float,
        error: str | None,
        weights_id: str,
        details: Mapping[str, Any],
    ) -> ScoreRecord:
        return ScoreRecord(
            video=str(video.path),
            prompt=video.prompt,
            dimension=dimension,
            score=score,
            aggregation_weight=aggregation_weight,
            error=error,
            backend=BACKEND,
            weights_id=weights_id,
            details=details,
            key=dict(video.key),
        )

    def close(self) -> None:
        """Remove the clip folder if this session created it."""
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> LongModeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def long_flicker_clips(
    session: LongModeSession, videos_by_prompt: Mapping[str, Sequence[VideoToScore]]
) -> dict[str, list[str]]:
    """Clip paths per prompt for the static filter, in vbench's layout (split first if needed).

    Feed the result to `static_filter.select_flicker_videos` (or `StaticFilter.select`): it keeps
    the first 5 static clips per prompt in vbench's path order, over all the prompt's videos.
    """
    clips: dict[str, list[str]] = {}
    for prompt, videos in videos_by_prompt.items():
        clips[prompt] = [str(c.path) for v in videos for c in session.split(v).clips]
    return clips
