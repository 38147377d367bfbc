"""What must be scored: the work items, the dimensions of every video, the flicker selection.

This is the one place that applies VBench's standard mode (a prompt tagged with dimensions is
scored only on those) and its temporal-flickering protocol (a prompt sampled 25 times is
filtered by the static filter down to its first 5 static videos, or clips in VBench-Long, and
only those are scored on temporal_flickering). The run plans with `RunPlan.of_spec` (from its
spec) and the `score` command with `plan_folder` then `RunPlan.of_folder` (from a folder of
videos): one plan type, so the same videos get the same dimensions, record paths and completion
checks whichever command scores them. Every path comes from `run_layout.RunLayout`.

Nothing here loads a model; listing a folder and reading selection files and sidecars is the
only I/O.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repvideo_eval import registry
from repvideo_eval.config import PromptEntry, RunSpec, Suite
from repvideo_eval.errors import UserError
from repvideo_eval.generation.items import GenerationItem, generation_items
from repvideo_eval.generation.naming import video_file_stem
from repvideo_eval.run_layout import RunLayout
from repvideo_eval.scoring.per_video import UNKNOWN_SEED, VideoIdentity
from repvideo_eval.scoring.vbench_constants import has_auxiliary_info

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
    generated: list[GenerationItem], prompts: set[str], layout: RunLayout
) -> list[FilterItem]:
    grouped: dict[tuple[str, str], list[GenerationItem]] = {}
    for item in generated:
        if item.prompt in prompts:
            grouped.setdefault((RunLayout.owner(item), item.prompt), []).append(item)
    items = []
    for (owner, prompt), members in grouped.items():
        stem = Path(members[0].video_path).stem.rsplit("-", 1)[0]
        items.append(
            FilterItem(
                key=f"{owner}/{stem}",
                prompt=prompt,
                video_paths=tuple(m.video_path for m in members),
                selection_path=str(layout.filter_selection(members[0], stem)),
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


def dimensions_by_prompt(suite: Suite, requested: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """VBench's standard mode: a prompt tagged with dimensions is scored only on those (e.g. the
    72 subject_consistency prompts); untagged prompts (custom suites) on every requested one.
    A dimension that reads auxiliary info (object_class, color, scene, ...) is left out for a
    prompt without it (`skipped_for_auxiliary_info` says which), instead of failing per video."""
    chosen: dict[str, tuple[str, ...]] = {}
    info = _merged_auxiliary_info(suite)
    for entry in suite.prompts:
        tagged = set(entry.dimensions)
        dims = tuple(d for d in requested if d in tagged) if tagged else requested
        chosen[entry.text] = tuple(dict.fromkeys(chosen.get(entry.text, ()) + dims))
    return {
        text: tuple(d for d in dims if has_auxiliary_info(d, info[text]))
        for text, dims in chosen.items()
    }


def skipped_for_auxiliary_info(suite: Suite, requested: tuple[str, ...]) -> dict[str, int]:
    """Dimension -> how many prompts it would score but cannot, for want of auxiliary info."""
    info = _merged_auxiliary_info(suite)
    skipped: dict[str, set[str]] = {}
    for entry in suite.prompts:
        tagged = set(entry.dimensions)
        for dimension in requested:
            if tagged and dimension not in tagged:
                continue
            if not has_auxiliary_info(dimension, info[entry.text]):
                skipped.setdefault(dimension, set()).add(entry.text)
    return {dimension: len(prompts) for dimension, prompts in skipped.items()}


def auxiliary_skip_message(skipped: dict[str, int]) -> str:
    """The one line a run or `score` prints for `skipped_for_auxiliary_info`'s answer."""
    parts = ", ".join(f"{dimension} ({count} prompt(s))" for dimension, count in skipped.items())
    return (
        f"skipped for want of auxiliary info: {parts}; give those prompts `auxiliary_info` in "
        "VBench_full_info.json's schema in the suite file to score them (docs/vbench_protocols.md)"
    )


def _merged_auxiliary_info(suite: Suite) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for entry in suite.prompts:
        merged.setdefault(entry.text, {}).update(entry.auxiliary_info)
    return merged


def auxiliary_info_by_prompt(suite: Suite) -> dict[str, str]:
    """Each prompt's auxiliary info as JSON text; a prompt listed twice (VBench has two, each
    with one entry that carries appearance_style's info) gets the union of its entries, as
    VBench's standard mode reads it."""
    merged = _merged_auxiliary_info(suite)
    return {prompt: json.dumps(info, sort_keys=True) for prompt, info in merged.items()}


def video_identity(item: GenerationItem, table_dir: Path) -> VideoIdentity:
    """The per-video table's identity columns of a video; its path relative to the table."""
    return VideoIdentity(
        model=item.card_name,
        card_hash=item.card_hash,
        prompt=item.prompt,
        prompt_index=item.prompt_index,
        sample=item.sample,
        seed=item.seed,
        video=os.path.relpath(item.video_path, table_dir),
    )


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
    layout: RunLayout,
    scoring_weights: str,
    flicker_kept: dict[str, set[str]] | None = None,
    long_mode: bool = False,
) -> list[ScoringItem]:
    items: dict[str, ScoringItem] = {}
    for item in generated:
        dimensions = dimensions_for_video(item, dims_by_prompt, flicker_kept)
        if item.key in items or not dimensions:
            continue
        # A score is finished iff its record exists: a video interrupted half-way through its
        # dimensions is scored on the rest only; a fully scored one is skipped as complete.
        missing = tuple(
            d for d in dimensions if not layout.score_record(scoring_weights, item, d).is_file()
        )
        dimensions = missing or dimensions
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
                str(layout.score_record(scoring_weights, item, d)) for d in dimensions
            ),
            flicker_clips=clips,
        )
    return list(items.values())


@dataclass(frozen=True)
class ScoringSettings:
    """How a run scores: the scoring fields of its `RunSpec` (the same for `run` and `score`)."""

    dimensions: tuple[str, ...]
    scoring_weights: str
    vbench_mode: str
    detector: str

    @classmethod
    def of(cls, spec: RunSpec) -> ScoringSettings:
        return cls(spec.dimensions, spec.scoring_weights, spec.vbench_mode, spec.detector)


class RunPlan:
    """What a run folder must hold, for `run` (from its spec) and `score` (from a folder of
    videos) alike: the videos of every model, and for each video the dimensions it is scored on
    (VBench standard mode, then the flicker protocol's selection once the static filter has
    run). Every path comes from `layout`."""

    def __init__(
        self,
        layout: RunLayout,
        settings: ScoringSettings,
        items_by_card: dict[str, list[GenerationItem]],
        suite: Suite,
        *,
        dims_by_prompt: dict[str, tuple[str, ...]] | None = None,
        flicker: set[str] | None = None,
        aux_by_prompt: dict[str, str] | None = None,
        generates: bool = True,
    ) -> None:
        self.layout, self.settings, self.items_by_card = layout, settings, items_by_card
        #: False for `score`: its videos exist already and are not this plan's to make.
        self.generates = generates
        self.run_dir = layout.root
        self.dims_by_prompt = (
            dimensions_by_prompt(suite, settings.dimensions)
            if dims_by_prompt is None
            else dims_by_prompt
        )
        self.flicker_prompts = (
            flicker_prompts(suite, settings.dimensions) if flicker is None else flicker
        )
        self.aux_by_prompt = (
            auxiliary_info_by_prompt(suite) if aux_by_prompt is None else aux_by_prompt
        )
        from repvideo_eval.scoring.long_mode import is_long_mode

        self.long_mode = is_long_mode(settings.vbench_mode)
        self.clip_dir = layout.clip_dir

    @classmethod
    def of_spec(cls, spec: RunSpec, run_dir: Path) -> RunPlan:
        """A run's plan: every (card, prompt, sample) of the spec."""
        items = {
            card.name: generation_items(card, spec.suite, run_dir, spec.prompt_set)
            for card in spec.models
        }
        return cls(RunLayout(run_dir), ScoringSettings.of(spec), items, spec.suite)

    @classmethod
    def of_folder(cls, folder: FolderPlan, settings: ScoringSettings, run_dir: Path) -> RunPlan:
        """`score`'s plan: the folder's videos, scored into the run folder `run_dir`."""
        items: dict[str, list[GenerationItem]] = {}
        for item in folder.items:
            items.setdefault(item.card_name, []).append(item)
        return cls(
            RunLayout(run_dir),
            settings,
            items,
            folder.suite,
            dims_by_prompt=folder.dims_by_prompt,
            flicker=folder.flicker_prompts,
            aux_by_prompt=folder.aux_by_prompt,
            generates=False,
        )

    @property
    def all_items(self) -> list[GenerationItem]:
        return [item for items in self.items_by_card.values() for item in items]

    def filter_items(self, generated: list[GenerationItem]) -> list[FilterItem]:
        return filter_items(generated, self.flicker_prompts, self.layout)

    def flicker_selection(self, generated: list[GenerationItem]) -> dict[str, set[str]] | None:
        if not self.flicker_prompts:
            return None
        return kept_by_video(
            self.filter_items(generated), generated, self.clip_dir if self.long_mode else None
        )

    def scoring_items(self, generated: list[GenerationItem]) -> list[ScoringItem]:
        return scoring_items(
            generated,
            self.aux_by_prompt,
            self.dims_by_prompt,
            self.layout,
            self.settings.scoring_weights,
            flicker_kept=self.flicker_selection(generated),
            long_mode=self.long_mode,
        )

    def scored_pairs(self) -> list[tuple[GenerationItem, str]]:
        """(video, dimension) for every score the run should hold, model by model."""
        selection = self.flicker_selection(self.all_items)
        return [
            (item, dimension)
            for item in self.all_items
            for dimension in dimensions_for_video(item, self.dims_by_prompt, selection)
        ]

    def record_path(self, item: GenerationItem, dimension: str) -> Path:
        return self.layout.score_record(self.settings.scoring_weights, item, dimension)


# ------------------------------------------------------------------------- a folder of videos

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif")
#: `{prompt}-{i}`, matched whole (`fullmatch`): any character in the prompt part, newlines included,
#: and ASCII digits only in the index, so every name splits the same way.
SAMPLE_SUFFIX = re.compile(r"(?P<prompt>.*)-(?P<index>[0-9]+)", re.DOTALL)
FOLDER_MODES = ("auto", "standard", "custom")


@dataclass(frozen=True)
class FolderPlan:
    """A folder of videos planned as a run would plan them.

    Standard mode (VBench's `vbench_standard`): the files are `{prompt}-{i}` after the prompts
    of VBench_full_info.json, each video gets the requested dimensions its prompt is tagged
    for, and a folder that holds more than VBench's 5 samples of a temporal_flickering prompt
    (the run's 25) goes through the flicker protocol. A folder with at most 5 per prompt is
    taken as VBench's submission layout (already filtered) and scored as it is.
    Custom mode (`custom_input`): every video on every requested dimension; the prompt is the
    file name without extension and trailing `-<index>`.
    """

    mode: str
    suite: Suite
    items: tuple[GenerationItem, ...]
    dims_by_prompt: dict[str, tuple[str, ...]]
    flicker_prompts: set[str]
    aux_by_prompt: dict[str, str]


def list_videos(videos_dir: Path) -> list[Path]:
    """The folder's video files; hidden ones (as VBench's glob, and the temporary files a killed
    writer leaves, `.<name>.<random>.tmp.mp4`) are not videos of the run."""
    videos_dir = Path(videos_dir)
    if not videos_dir.is_dir():
        raise UserError(
            f"Videos folder {videos_dir} does not exist.",
            "Pass the folder that holds the generated videos.",
        )
    videos = sorted(
        p
        for p in videos_dir.iterdir()
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")
    )
    if not videos:
        raise UserError(
            f"No video files ({', '.join(VIDEO_EXTENSIONS)}) in {videos_dir}.",
            "Check --videos-dir.",
        )
    return videos


def prompt_from_name(path: Path) -> str:
    """Custom mode's prompt: the file stem without a trailing `-<index>`."""
    match = SAMPLE_SUFFIX.fullmatch(path.stem)
    return match.group("prompt") if match else path.stem


def plan_folder(
    videos_dir: Path,
    dimensions: Sequence[str],
    *,
    mode: str = "auto",
    full_info_path: Path | None = None,
    model: str | None = None,
) -> FolderPlan:
    """Plan a folder in `mode` ("auto": standard when every file is named after the suite).

    A video of a run folder (`videos/<card hash>/`) takes its model, card hash, prompt index,
    sample and seed from the run's sidecar, so its records are the run's; other videos are
    labelled `model` (default: the folder name) with an unknown seed.
    """
    if mode not in FOLDER_MODES:
        raise UserError(f"Unknown mode {mode!r}.", "Use auto, standard or custom.")
    videos = list_videos(videos_dir)
    requested = tuple(dimensions)
    label = model or Path(videos_dir).resolve().name
    if mode != "custom":
        standard = _standard_plan(videos, requested, full_info_path, label)
        if standard is not None and (mode == "standard" or len(standard.items) == len(videos)):
            return standard
        if mode == "standard":
            raise UserError(
                f"No file in {videos_dir} is named '{{prompt}}-{{i}}.mp4' after a VBench prompt.",
                "Use --mode custom.",
            )
    return _custom_plan(videos, requested, label)


def _standard_plan(
    videos: list[Path], requested: tuple[str, ...], full_info_path: Path | None, label: str
) -> FolderPlan | None:
    suite = registry.vbench_suite(full_info_path=full_info_path)
    by_stem = {path.stem: path for path in reversed(videos)}  # first of a stem's extensions
    flicker = {e.text for e in suite.prompts if e.samples is not None}
    if not any(
        video_file_stem(text, i) in by_stem
        for text in flicker
        for i in range(suite.samples_per_prompt, registry.VBENCH_FLICKER_SAMPLES)
    ):
        prompts = tuple(dataclasses.replace(e, samples=None) for e in suite.prompts)
        suite = dataclasses.replace(suite, prompts=prompts)
    items: list[GenerationItem] = []
    seen: set[str] = set()
    for prompt_index, entry in enumerate(suite.prompts):
        for sample in range(suite.samples_for(entry)):
            stem = video_file_stem(entry.text, sample)
            if stem in seen or stem not in by_stem:
                continue
            seen.add(stem)
            items.append(_folder_item(by_stem[stem], entry.text, prompt_index, sample, label))
    if not items:
        return None
    return FolderPlan(
        mode="standard",
        suite=suite,
        items=tuple(items),
        dims_by_prompt=dimensions_by_prompt(suite, requested),
        flicker_prompts=flicker_prompts(suite, requested),
        aux_by_prompt=auxiliary_info_by_prompt(suite),
    )


def _custom_plan(videos: list[Path], requested: tuple[str, ...], label: str) -> FolderPlan:
    prompts: dict[str, int] = {}
    items = []
    for path in videos:
        prompt = prompt_from_name(path)
        index = prompts.setdefault(prompt, len(prompts))
        match = SAMPLE_SUFFIX.fullmatch(path.stem)
        items.append(_folder_item(path, prompt, index, int(match["index"]) if match else 0, label))
    suite = Suite(
        name="custom",
        prompts=tuple(PromptEntry(text=text) for text in dict.fromkeys(i.prompt for i in items)),
        description="videos of a folder (VBench custom mode)",
    )
    return FolderPlan(
        mode="custom",
        suite=suite,
        items=tuple(items),
        dims_by_prompt=dimensions_by_prompt(suite, requested),
        flicker_prompts=set(),
        aux_by_prompt={},
    )


def _folder_item(
    path: Path, prompt: str, prompt_index: int, sample: int, label: str
) -> GenerationItem:
    """A folder's video as the work item a run would have made for it."""
    sidecar_path = RunLayout.sidecar_of_video(path)
    meta = _sidecar(sidecar_path)
    if meta is not None and (meta["prompt"] == prompt or prompt == prompt_from_name(path)):
        return GenerationItem(
            key=f"{meta['card_hash']}/{path.name}",
            card_name=meta["model"],
            card_hash=meta["card_hash"],
            prompt=meta["prompt"],
            prompt_index=meta["prompt_index"],
            sample=meta["sample"],
            seed=meta["seed"],
            video_path=str(path),
            sidecar_path=str(sidecar_path),
        )
    return GenerationItem(
        key=f"{label}/{path.name}",
        card_name=label,
        card_hash="",
        prompt=prompt,
        prompt_index=prompt_index,
        sample=sample,
        seed=UNKNOWN_SEED,
        video_path=str(path),
        sidecar_path="",
    )


SIDECAR_FIELDS: dict[str, type] = {
    "model": str,
    "card_hash": str,
    "prompt": str,
    "prompt_index": int,
    "sample": int,
    "seed": int,
}


def _sidecar(path: Path) -> dict[str, Any] | None:
    """The identity fields of a generation sidecar, or None when there is no usable one."""
    meta = read_score_record(path)
    if not isinstance(meta, dict):
        return None
    if not all(isinstance(meta.get(k), t) for k, t in SIDECAR_FIELDS.items()):
        return None
    return meta
