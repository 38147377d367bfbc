"""Score many videos on several dimensions with models loaded once and each video decoded once.

`ScoringSession` is the long-lived worker (one per process or Ray actor): it builds every
requested scorer up front, then for each video decodes the frames each decoder needs once and
passes them to all scorers. A bad video never stops the session: it becomes error records.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path

from repvideo_eval.devices import resolve_device
from repvideo_eval.errors import UserError
from repvideo_eval.scoring.decode import DEFAULT_MAX_VIDEO_PIXELS, DecodedVideo, VideoDecodeError
from repvideo_eval.scoring.dimension_registry import scorer_class, validate_dimensions
from repvideo_eval.scoring.records import ScoreRecord, VideoToScore
from repvideo_eval.scoring.scorer import BACKEND, Scorer, ScorerContext, VideoRejected
from repvideo_eval.vocabulary import (
    DEFAULT_DETECTOR,
    DEFAULT_SCORING_WEIGHTS,
    DETECTION_DIMENSIONS,
    ScoringWeightsMode,
    parse_scoring_weights,
)

logger = logging.getLogger(__name__)


def scoring_weights_mode(scoring_weights: str) -> tuple[ScoringWeightsMode, int]:
    """vocabulary.parse_scoring_weights with its error as a UserError (sessions are built from
    user input)."""
    try:
        return parse_scoring_weights(scoring_weights)
    except ValueError as error:
        raise UserError(str(error)) from None


def session_detector(dimensions: Sequence[str], requested: str | None, scoring_weights: str) -> str:
    """The detection backend (detection.select.resolve_detector) when a detection dimension is
    scored; otherwise the default, unchecked (the choice cannot matter)."""
    from repvideo_eval.scoring.detection.select import resolve_detector

    if not set(dimensions) & set(DETECTION_DIMENSIONS):
        return DEFAULT_DETECTOR
    return resolve_detector(requested, scoring_weights=scoring_weights)


class ScoringSession:
    """Loads the scorers of `dimensions` once and scores videos one at a time."""

    def __init__(
        self,
        dimensions: Sequence[str],
        *,
        device: str = "cpu",
        scoring_weights: str = DEFAULT_SCORING_WEIGHTS,
        cache_dir: Path | None = None,
        detector: str | None = None,
        max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS,
    ) -> None:
        self.dimensions = validate_dimensions(list(dimensions))
        mode, seed = scoring_weights_mode(scoring_weights)
        device = resolve_device(device)
        self.context = ScorerContext(
            device=device,
            scoring_weights=mode,
            cache_dir=Path(cache_dir) if cache_dir else None,
            seed=seed,
            detector=session_detector(self.dimensions, detector, mode),
            max_video_pixels=max_video_pixels,
        )
        self.scorers: dict[str, Scorer] = {}
        #: Wall seconds spent per dimension: model building here, then scoring (decoding of the
        #: frames a dimension is first to ask for included); for profiling and benchmarks.
        self.load_seconds: dict[str, float] = {}
        self.score_seconds: dict[str, float] = dict.fromkeys(self.dimensions, 0.0)
        for dimension in self.dimensions:
            start = time.perf_counter()
            self.scorers[dimension] = scorer_class(dimension)(self.context)
            self.load_seconds[dimension] = time.perf_counter() - start

    def score(
        self, video: VideoToScore, dimensions: Sequence[str] | None = None
    ) -> list[ScoreRecord]:
        """One record per dimension for this video (errors included; never raises for a bad video).

        `dimensions` restricts scoring to a subset of the session's dimensions (VBench standard
        mode scores each prompt only on the dimensions it is tagged for); default: all of them.
        """
        if dimensions is None:
            chosen = list(self.scorers)
        else:
            unknown = [d for d in dimensions if d not in self.scorers]
            if unknown:
                raise UserError(
                    f"Dimension(s) {', '.join(unknown)} not loaded in this session.",
                    f"Loaded: {', '.join(self.scorers)}.",
                )
            chosen = list(dict.fromkeys(dimensions))
        decoded = DecodedVideo(video.path, self.context.max_video_pixels)
        records = []
        for dimension in chosen:
            start = time.perf_counter()
            records.append(self._score_one(self.scorers[dimension], decoded, video))
            self.score_seconds[dimension] += time.perf_counter() - start
        return records

    def _score_one(self, scorer: Scorer, decoded: DecodedVideo, video: VideoToScore) -> ScoreRecord:
        def record(
            score: float | None, aggregation_weight: float, error: str | None, details: dict
        ) -> ScoreRecord:
            return ScoreRecord(
                video=str(video.path),
                prompt=video.prompt,
                dimension=scorer.dimension,
                score=score,
                aggregation_weight=aggregation_weight,
                error=error,
                backend=BACKEND,
                weights_id=scorer.weights_id,
                details=details,
                key=dict(video.key),
            )

        try:
            frames = decoded.frames(scorer.decoder)
            if len(frames) < scorer.min_frames:
                raise VideoRejected(
                    f"{scorer.dimension} needs at least {scorer.min_frames} frames, the video has {len(frames)}"
                )
            result = scorer.score(frames, decoded, video)
            if not math.isfinite(result.score):
                raise VideoRejected(f"non-finite score ({result.score})")
            return record(
                float(result.score), float(result.aggregation_weight), None, dict(result.details)
            )
        except (VideoDecodeError, VideoRejected) as exc:
            return record(None, 0.0, str(exc), {})
        except UserError:
            raise
        except Exception as exc:  # a model failing on an unusual input must not stop the run
            logger.warning("%s failed on %s: %r", scorer.dimension, video.path, exc)
            return record(None, 0.0, f"{type(exc).__name__}: {str(exc)[:300]}", {})


def score_videos(
    videos: Sequence[VideoToScore],
    dimensions: Sequence[str],
    *,
    device: str = "cpu",
    scoring_weights: str = DEFAULT_SCORING_WEIGHTS,
    cache_dir: Path | None = None,
    progress: bool = True,
    detector: str | None = None,
) -> list[ScoreRecord]:
    """Score every video on every dimension; records come video by video, dimensions in order."""
    session = ScoringSession(
        dimensions,
        device=device,
        scoring_weights=scoring_weights,
        cache_dir=cache_dir,
        detector=detector,
    )
    from tqdm.auto import tqdm

    records: list[ScoreRecord] = []
    for video in tqdm(videos, desc="scoring", unit="video", disable=not progress):
        records.extend(session.score(video))
    return records
