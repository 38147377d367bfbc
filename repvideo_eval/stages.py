"""The two stages of a run as Ray work: generation items (in generation/) and scoring items.

A scoring item is one video and the dimensions it still needs; its worker keeps the scorer models
loaded and writes one small JSON file per (video, dimension), atomically, so a resumed run rescores
nothing that finished and a half-written score never counts.
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


def scoring_items(
    generated: list[GenerationItem],
    aux_by_prompt: dict[str, str],
    dims_by_prompt: dict[str, tuple[str, ...]],
    run_dir: Path,
    weights: str,
) -> list[ScoringItem]:
    items: dict[str, ScoringItem] = {}
    for item in generated:
        dimensions = dims_by_prompt.get(item.prompt, ())
        if item.key in items or not dimensions:
            continue
        items[item.key] = ScoringItem(
            key=item.key,
            video_path=item.video_path,
            prompt=item.prompt,
            auxiliary_info_json=aux_by_prompt.get(item.prompt, "{}"),
            dimensions=dimensions,
            record_paths=tuple(str(score_record_path(run_dir, weights, item, d)) for d in dimensions),
        )
    return list(items.values())


def scoring_complete(item: ScoringItem) -> bool:
    return all(Path(path).is_file() for path in item.record_paths)


class ScoringWorker:
    """One per Ray actor: a `ScoringSession` with every requested scorer loaded once."""

    def __init__(self, dimensions: list[str], device: str, weights: str, cache_dir: str | None) -> None:
        import warnings

        from repvideo_eval.generation.worker import resolve_device
        from repvideo_eval.scoring import ScoringSession

        # openai-clip imports pkg_resources, which warns on every import; nothing to act on.
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")

        self.session = ScoringSession(
            dimensions, device=resolve_device(device), weights=weights, cache_dir=Path(cache_dir) if cache_dir else None
        )

    def process(self, item: ScoringItem) -> dict[str, Any]:
        from repvideo_eval.scoring import VideoToScore

        video = VideoToScore(path=Path(item.video_path), prompt=item.prompt, auxiliary_info=json.loads(item.auxiliary_info_json))
        records = {record.dimension: record for record in self.session.score(video, dimensions=item.dimensions)}
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
