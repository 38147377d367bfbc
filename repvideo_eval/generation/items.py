"""Work items of the generation stage: one (model card, prompt, sample, seed) -> one video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repvideo_eval.config import STANDARD_PROMPT_SET, ModelCard, Suite
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
    #: The text the model is given (a prompt set's line); None: `prompt` itself. The name, index,
    #: seed and every score stay with `prompt` (VBench's rule for its augmented prompt lists).
    generation_prompt: str | None = None
    prompt_set: str = STANDARD_PROMPT_SET

    @property
    def text_for_model(self) -> str:
        return self.prompt if self.generation_prompt is None else self.generation_prompt


def generation_items(
    card: ModelCard, suite: Suite, run_dir: Path, prompt_set: str = STANDARD_PROMPT_SET
) -> list[GenerationItem]:
    """One item per video; a prompt listed twice is generated once, from its first entry (whose
    index, seed and prompt-set line it keeps)."""
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
                    generation_prompt=entry.generation_text,
                    prompt_set=prompt_set,
                )
            )
    return items


def generation_complete(item: GenerationItem) -> bool:
    """The generation stage's completion check (the rule is `RunLayout.video_done`)."""
    return RunLayout.video_done(item)
