"""Work items of the generation stage: one (model card, prompt, sample, seed) -> one video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repvideo_eval.config import ModelCard, Suite
from repvideo_eval.generation.naming import video_file_stem
from repvideo_eval.run_layout import RunLayout


@dataclass(frozen=True)
class GenerationItem:
    key: str
    card_name: str
    card_hash: str
    prompt: str
    prompt_index: int
    sample: int
    seed: int
    video_path: str
    sidecar_path: str


def generation_items(card: ModelCard, suite: Suite, run_dir: Path) -> list[GenerationItem]:
    layout = RunLayout(run_dir)
    items: list[GenerationItem] = []
    seen: set[str] = set()
    for prompt_index, entry in enumerate(suite.prompts):
        for sample in range(suite.samples_for(entry)):
            stem = video_file_stem(entry.text, sample)
            if stem in seen:  # the same prompt twice in a suite (VBench has two) is one video set
                continue
            seen.add(stem)
            items.append(
                GenerationItem(
                    key=f"{card.card_hash}/{stem}",
                    card_name=card.name,
                    card_hash=card.card_hash,
                    prompt=entry.text,
                    prompt_index=prompt_index,
                    sample=sample,
                    seed=suite.seed_for(prompt_index, sample),
                    video_path=str(layout.video_path(card.card_hash, stem)),
                    sidecar_path=str(layout.sidecar_path(card.card_hash, stem)),
                )
            )
    return items


def generation_complete(item: GenerationItem) -> bool:
    """The generation stage's completion check (the rule is `RunLayout.video_done`)."""
    return RunLayout.video_done(item)
