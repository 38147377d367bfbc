"""What a run must produce: its work items, the dimensions of every video, the flicker selection.

This is the one place that applies VBench's standard mode (a prompt tagged with dimensions is
scored only on those) and its temporal-flickering protocol (a prompt sampled 25 times is
filtered by the static filter down to its first 5 static videos, or clips in VBench-Long, and
only those are scored on temporal_flickering). The run (`evaluation`) and the `score` command
both plan through it, so the same videos get the same dimensions whichever command scores them.

Nothing here loads a model; reading a static-filter selection file is the only I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repvideo_eval.config import ModelCard, RunSpec, Suite
from repvideo_eval.generation.items import GenerationItem, generation_items

FLICKER = "temporal_flickering"


@dataclass(frozen=True)
class ScoringItem:
    """One video and the dimensions it still needs, with the record file of each."""

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
    """The videos of one (model, flicker prompt) and where the filter's selection goes."""

    key: str
    prompt: str
    video_paths: tuple[str, ...]
    selection_path: str


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


def read_score_record(path: Path) -> dict[str, Any] | None:
    """A score record or filter selection written by a worker; None when absent or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_selection(item: FilterItem) -> list[str] | None:
    data = read_score_record(Path(item.selection_path))
    return None if data is None else list(data["kept"])


def score_record_path(
    run_dir: Path, scorer_weights: str, item: GenerationItem, dimension: str
) -> Path:
    mode = scorer_weights.replace(":", "_").replace("=", "-")
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
    scorer_weights: str,
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
                str(score_record_path(run_dir, scorer_weights, item, d)) for d in dimensions
            ),
            flicker_clips=clips,
        )
    return list(items.values())


class RunPlan:
    """What a run must produce, derived from its spec and folder: the generation items of every
    card, and for each video the dimensions it is scored on (VBench standard mode, then the
    flicker protocol's selection once the static filter has run)."""

    def __init__(self, spec: RunSpec, run_dir: Path) -> None:
        self.spec, self.run_dir = spec, run_dir
        self.items_by_card = {
            card.name: generation_items(card, spec.suite, run_dir) for card in spec.models
        }
        self.dims_by_prompt = dimensions_by_prompt(spec.suite, spec.dimensions)
        self.flicker_prompts = flicker_prompts(spec.suite, spec.dimensions)
        from repvideo_eval.scoring.long_mode import is_long_mode

        self.long_mode = is_long_mode(spec.vbench_mode)
        self.clip_dir = long_clip_dir(run_dir)

    @property
    def all_items(self) -> list[GenerationItem]:
        return [item for items in self.items_by_card.values() for item in items]

    def filter_items(self, generated: list[GenerationItem]) -> list[FilterItem]:
        return filter_items(generated, self.flicker_prompts, self.run_dir)

    def flicker_selection(self, generated: list[GenerationItem]) -> dict[str, set[str]] | None:
        if not self.flicker_prompts:
            return None
        return kept_by_video(
            self.filter_items(generated), generated, self.clip_dir if self.long_mode else None
        )

    def scoring_items(self, generated: list[GenerationItem]) -> list[ScoringItem]:
        aux = {entry.text: entry.auxiliary_info_json for entry in self.spec.suite.prompts}
        return scoring_items(
            generated,
            aux,
            self.dims_by_prompt,
            self.run_dir,
            self.spec.scoring_weights,
            flicker_kept=self.flicker_selection(generated),
            long_mode=self.long_mode,
        )

    def scored_pairs(self) -> list[tuple[ModelCard, GenerationItem, str]]:
        """(card, video, dimension) for every score the run should hold."""
        selection = self.flicker_selection(self.all_items)
        pairs = []
        for card in self.spec.models:
            for item in self.items_by_card[card.name]:
                for dimension in dimensions_for_video(item, self.dims_by_prompt, selection):
                    pairs.append((card, item, dimension))
        return pairs

    def record_path(self, item: GenerationItem, dimension: str) -> Path:
        return score_record_path(self.run_dir, self.spec.scoring_weights, item, dimension)
