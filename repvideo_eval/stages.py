"""The stages after generation, as Ray work: VBench's static filter, then scoring.

The items come from `planning` (which decides what each video is scored on); the workers here
run them. A scoring worker keeps the scorer models loaded and writes one small JSON file per
(video, dimension), atomically, so a resumed run rescores nothing that finished and a
half-written score never counts.

The static-filter worker runs VBench's temporal-flickering protocol for one (model, prompt): it
keeps the first 5 static videos (clips, in VBench-Long) of the 25 and writes its selection and
every decision to `static_filter/<card hash>/<prompt>.json`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from repvideo_eval.atomic import write_json_atomic
from repvideo_eval.crashpoints import crash_point
from repvideo_eval.planning import FLICKER, FilterItem, ScoringItem
from repvideo_eval.run_layout import RunLayout
from repvideo_eval.scoring.decode import DEFAULT_MAX_VIDEO_PIXELS
from repvideo_eval.vocabulary import STANDARD_MODE


def filter_complete(item: FilterItem) -> bool:
    """Finished iff the selection file exists (the rule is `RunLayout.files_done`)."""
    return RunLayout.files_done([item.selection_path])


class StaticFilterWorker:
    """One per Ray actor: RAFT loaded once; selects the static videos (or clips) of one prompt."""

    def __init__(
        self,
        device: str,
        scoring_weights: str,
        cache_dir: str | None,
        vbench_mode: str,
        clip_dir: str,
        max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS,
    ) -> None:
        from repvideo_eval.devices import resolve_device
        from repvideo_eval.scoring.static_filter import StaticFilter

        device = resolve_device(device)
        self.filter = StaticFilter(
            device=device,
            scoring_weights=scoring_weights,
            cache_dir=Path(cache_dir) if cache_dir else None,
            max_video_pixels=max_video_pixels,
        )
        self.splitter = None
        from repvideo_eval.scoring.long_mode import is_long_mode

        if is_long_mode(vbench_mode):
            from repvideo_eval.scoring.long_mode import LongModeSession

            self.splitter = LongModeSession(
                [FLICKER],
                device=device,
                scoring_weights=scoring_weights,
                work_dir=Path(clip_dir),
                max_video_pixels=max_video_pixels,
            )

    def process(self, item: FilterItem) -> dict[str, Any]:
        from repvideo_eval.scoring import VideoToScore
        from repvideo_eval.scoring.long_mode import long_flicker_clips

        paths: list[str] = list(item.video_paths)
        if self.splitter is not None:
            videos = [VideoToScore(path=Path(p), prompt=item.prompt) for p in paths]
            paths = long_flicker_clips(self.splitter, {item.prompt: videos})[item.prompt]
        kept, decisions = self.filter.select({item.prompt: paths})
        selection = {
            "prompt": item.prompt,
            "unit": "clip" if self.splitter is not None else "video",
            "kept": kept.get(item.prompt, []),
            "decisions": [d.to_json() for d in decisions.get(item.prompt, [])],
        }
        write_json_atomic(selection, Path(item.selection_path))
        return {"kept": len(selection["kept"]), "inspected": len(selection["decisions"])}


def scoring_complete(item: ScoringItem) -> bool:
    """Finished iff every record exists (the manifest is never consulted; `RunLayout.files_done`)."""
    return RunLayout.files_done(item.record_paths)


class ScoringWorker:
    """One per Ray actor: a `ScoringSession` (or VBench-Long's wrapper) with every scorer loaded once."""

    def __init__(
        self,
        dimensions: list[str],
        device: str,
        scoring_weights: str,
        cache_dir: str | None,
        vbench_mode: str = STANDARD_MODE,
        clip_dir: str | None = None,
        detector: str | None = None,
        max_video_pixels: int = DEFAULT_MAX_VIDEO_PIXELS,
    ) -> None:
        import warnings

        from repvideo_eval.devices import resolve_device
        from repvideo_eval.scoring import ScoringSession

        # openai-clip imports pkg_resources, which warns on every import; nothing to act on.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

        from repvideo_eval.scoring.long_mode import is_long_mode, long_consistency

        options: dict[str, Any] = {
            "device": resolve_device(device),
            "scoring_weights": scoring_weights,
            "cache_dir": Path(cache_dir) if cache_dir else None,
            "detector": detector,
            "max_video_pixels": max_video_pixels,
        }
        self.long_mode = is_long_mode(vbench_mode)
        if self.long_mode:
            from repvideo_eval.scoring.long_mode import LongModeSession

            options["work_dir"] = Path(clip_dir) if clip_dir else None
            options["consistency"] = long_consistency(vbench_mode)
            self.session: Any = LongModeSession(dimensions, **options)
        else:
            self.session = ScoringSession(dimensions, **options)

    def process(self, item: ScoringItem) -> dict[str, Any]:
        from repvideo_eval.scoring import VideoToScore

        video = VideoToScore(
            path=Path(item.video_path),
            prompt=item.prompt,
            auxiliary_info=json.loads(item.auxiliary_info_json),
        )
        if self.long_mode:
            scored = self.session.score(
                video, dimensions=item.dimensions, flicker_clips=item.flicker_clips
            )
        else:
            scored = self.session.score(video, dimensions=item.dimensions)
        records = {record.dimension: record for record in scored}
        errors = 0
        for dimension, path in zip(item.dimensions, item.record_paths):
            record = records[dimension]
            errors += record.error is not None
            write_json_atomic(dataclasses.asdict(record) | {"video": item.video_path}, Path(path))
            crash_point("score-written")
        return {"dimensions": len(item.dimensions), "errors": errors}
