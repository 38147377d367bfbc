"""The stages after generation, as Ray work: VBench's static filter, then scoring.

A scoring item is one video and the dimensions it still needs; its worker keeps the scorer models
loaded and writes one small JSON file per (video, dimension), atomically, so a resumed run rescores
nothing that finished and a half-written score never counts.

The static-filter stage implements VBench's temporal-flickering protocol: a prompt sampled 25
times is filtered (RAFT) down to its first 5 static videos (clips, in VBench-Long), and only
those are scored on temporal_flickering. One item per (model, prompt); its selection and every
decision are written to `static_filter/<card hash>/<prompt>.json`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repvideo_eval.config import Suite
from repvideo_eval.generation.items import GenerationItem
from repvideo_eval.generation.video_io import write_json_atomic


@dataclass(frozen=True)
class ScoringItem:
    key: str
    video_path: str
    prompt: str
    auxiliary_info_json: str
    dimensions: tuple[str, ...]
    record_paths: tuple[str, ...]  # one per dimension, same order
    flicker_clips: tuple[str, ...] | None = (
        None  # VBench-Long: the static clips kept for temporal_flickering
    )


@dataclass(frozen=True)
class FilterItem:
    key: str
    prompt: str
    video_paths: tuple[str, ...]
    selection_path: str


FLICKER = "temporal_flickering"


def long_clip_dir(run_dir: Path) -> Path:
    """Where VBench-Long clips live; stable, so the filter and the scorer see the same clip paths."""
    return run_dir / "long_clips"


def flicker_prompts(suite: Suite, requested: tuple[str, ...]) -> set[str]:
    """Prompts under VBench's flicker protocol: tagged temporal_flickering with their own sample
    count (25 in the VBench suites); custom suites score every video, as VBench's custom mode does."""
    if FLICKER not in requested:
        return set()
    return {
        entry.text
        for entry in suite.prompts
        if FLICKER in entry.dimensions and entry.samples is not None
    }


def filter_items(
    generated: list[GenerationItem], prompts: set[str], run_dir: Path
) -> list[FilterItem]:
    grouped: dict[tuple[str, str], list[GenerationItem]] = {}
    for item in generated:
        if item.prompt in prompts:
            grouped.setdefault((item.card_hash, item.prompt), []).append(item)
    items = []
    for (card_hash, prompt), members in grouped.items():
        stem = Path(members[0].video_path).stem.rsplit("-", 1)[0]
        items.append(
            FilterItem(
                key=f"{card_hash}/{stem}",
                prompt=prompt,
                video_paths=tuple(m.video_path for m in members),
                selection_path=str(run_dir / "static_filter" / card_hash / f"{stem}.json"),
            )
        )
    return items


def filter_complete(item: FilterItem) -> bool:
    return Path(item.selection_path).is_file()


def read_selection(item: FilterItem) -> list[str] | None:
    data = read_score_record(Path(item.selection_path))
    return None if data is None else list(data["kept"])


class StaticFilterWorker:
    """One per Ray actor: RAFT loaded once; selects the static videos (or clips) of one prompt."""

    def __init__(
        self, device: str, weights: str, cache_dir: str | None, vbench_mode: str, clip_dir: str
    ) -> None:
        from repvideo_eval.generation.worker import resolve_device
        from repvideo_eval.scoring.static_filter import StaticFilter

        device = resolve_device(device)
        self.filter = StaticFilter(
            device=device, weights=weights, cache_dir=Path(cache_dir) if cache_dir else None
        )
        self.splitter = None
        from repvideo_eval.scoring.long_mode import is_long_mode

        if is_long_mode(vbench_mode):
            from repvideo_eval.scoring.long_mode import LongModeSession

            self.splitter = LongModeSession(
                [FLICKER], device=device, weights=weights, work_dir=Path(clip_dir)
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


def score_record_path(run_dir: Path, weights: str, item: GenerationItem, dimension: str) -> Path:
    mode = weights.replace(":", "_").replace("=", "-")
    stem = Path(item.video_path).stem
    return run_dir / "scores" / mode / item.card_hash / dimension / f"{stem}.json"


def dimensions_by_prompt(suite: Suite, requested: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """VBench's standard mode: a prompt tagged with dimensions is scored only on those (e.g. the
    72 subject_consistency prompts); untagged prompts (custom suites) on every requested one."""
    chosen: dict[str, tuple[str, ...]] = {}
    for entry in suite.prompts:
        tagged = set(entry.dimensions)
        dims = tuple(d for d in requested if d in tagged) if tagged else requested
        chosen[entry.text] = tuple(dict.fromkeys(chosen.get(entry.text, ()) + dims))
    return chosen


def dimensions_for_video(
    item: GenerationItem,
    dims_by_prompt: dict[str, tuple[str, ...]],
    flicker_kept: dict[str, set[str]] | None,
) -> tuple[str, ...]:
    """The dimensions one video is scored on; under the flicker protocol temporal_flickering only
    when the filter kept the video (or, in VBench-Long, one of its clips)."""
    dims = dims_by_prompt.get(item.prompt, ())
    if flicker_kept is None or FLICKER not in dims or item.key not in flicker_kept:
        return dims
    if flicker_kept[item.key]:
        return dims
    return tuple(d for d in dims if d != FLICKER)


def kept_by_video(
    items: list[FilterItem], generated: list[GenerationItem], clip_dir: Path | None
) -> dict[str, set[str]]:
    """For every video under the flicker protocol: the kept paths that belong to it (itself, or its clips)."""
    kept_all: dict[str, set[str]] = {}
    by_path = {g.video_path: g for g in generated}
    for f in items:
        kept = read_selection(f) or []
        members = [by_path[p] for p in f.video_paths if p in by_path]
        for g in members:
            stem = Path(g.video_path).stem
            if clip_dir is None:
                kept_all[g.key] = {p for p in kept if p == g.video_path}
            else:  # clips live in .../split_clip/<video stem>/<video stem>_<k>.mp4
                kept_all[g.key] = {p for p in kept if Path(p).parent.name == stem}
    return kept_all


def scoring_items(
    generated: list[GenerationItem],
    aux_by_prompt: dict[str, str],
    dims_by_prompt: dict[str, tuple[str, ...]],
    run_dir: Path,
    weights: str,
    flicker_kept: dict[str, set[str]] | None = None,
    long_mode: bool = False,
) -> list[ScoringItem]:
    items: dict[str, ScoringItem] = {}
    for item in generated:
        dimensions = dimensions_for_video(item, dims_by_prompt, flicker_kept)
        if item.key in items or not dimensions:
            continue
        clips = None
        if long_mode and flicker_kept is not None and item.key in flicker_kept:
            clips = tuple(sorted(flicker_kept[item.key]))
        items[item.key] = ScoringItem(
            key=item.key,
            video_path=item.video_path,
            prompt=item.prompt,
            auxiliary_info_json=aux_by_prompt.get(item.prompt, "{}"),
            dimensions=dimensions,
            record_paths=tuple(
                str(score_record_path(run_dir, weights, item, d)) for d in dimensions
            ),
            flicker_clips=clips,
        )
    return list(items.values())


def scoring_complete(item: ScoringItem) -> bool:
    return all(Path(path).is_file() for path in item.record_paths)


class ScoringWorker:
    """One per Ray actor: a `ScoringSession` (or VBench-Long's wrapper) with every scorer loaded once."""

    def __init__(
        self,
        dimensions: list[str],
        device: str,
        weights: str,
        cache_dir: str | None,
        vbench_mode: str = "standard",
        clip_dir: str | None = None,
        detector: str | None = None,
    ) -> None:
        import warnings

        from repvideo_eval.generation.worker import resolve_device
        from repvideo_eval.scoring import ScoringSession

        # openai-clip imports pkg_resources, which warns on every import; nothing to act on.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

        cache = Path(cache_dir) if cache_dir else None
        from repvideo_eval.scoring.long_mode import is_long_mode, long_consistency

        self.long_mode = is_long_mode(vbench_mode)
        if self.long_mode:
            from repvideo_eval.scoring.long_mode import LongModeSession

            self.session: Any = LongModeSession(
                dimensions,
                device=resolve_device(device),
                weights=weights,
                cache_dir=cache,
                work_dir=Path(clip_dir) if clip_dir else None,
                consistency=long_consistency(vbench_mode),
                detector=detector,
            )
        else:
            self.session = ScoringSession(
                dimensions,
                device=resolve_device(device),
                weights=weights,
                cache_dir=cache,
                detector=detector,
            )

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
        return {"dimensions": len(item.dimensions), "errors": errors}


def read_score_record(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
