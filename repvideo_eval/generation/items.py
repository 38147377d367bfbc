"""Work items of the generation stage: one (model card, prompt, sample, seed) -> one video."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from repvideo_eval.config import STANDARD_PROMPT_SET, ModelCard, Suite
from repvideo_eval.generation.naming import video_file_stem


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


def videos_dir(run_dir: Path, card: ModelCard) -> Path:
    """Content-addressed: every card with the same generation settings shares one folder."""
    return run_dir / "videos" / card.card_hash


def sidecars_dir(run_dir: Path, card: ModelCard) -> Path:
    """Kept apart from the videos: VBench's standard mode wants a folder of videos only."""
    return sidecars_dir_for_hash(run_dir, card.card_hash)


def sidecar_of_video(video_path: Path) -> Path:
    """The sidecar of a video in a run's `videos/<card hash>/` folder (it may not exist)."""
    video_path = Path(video_path)
    run_dir = video_path.parent.parent.parent
    return sidecars_dir_for_hash(run_dir, video_path.parent.name) / f"{video_path.stem}.json"


def sidecars_dir_for_hash(run_dir: Path, card_hash: str) -> Path:
    return run_dir / "sidecars" / card_hash


def generation_items(
    card: ModelCard, suite: Suite, run_dir: Path, prompt_set: str = STANDARD_PROMPT_SET
) -> list[GenerationItem]:
    """One item per video; a prompt listed twice is generated once, from its first entry (whose
    index, seed and prompt-set line it keeps)."""
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
                    video_path=str(videos_dir(run_dir, card) / f"{stem}.mp4"),
                    sidecar_path=str(sidecars_dir(run_dir, card) / f"{stem}.json"),
                    generation_prompt=entry.generation_text,
                    prompt_set=prompt_set,
                )
            )
    return items


def generation_complete(item: GenerationItem) -> bool:
    """Complete iff the video exists and its sidecar (written last) names the same card, seed,
    prompt and generation text (sidecars from before prompt sets: the prompt itself)."""
    video, sidecar = Path(item.video_path), Path(item.sidecar_path)
    if not (video.is_file() and video.stat().st_size > 0 and sidecar.is_file()):
        return False
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        meta.get("card_hash") == item.card_hash
        and meta.get("seed") == item.seed
        and meta.get("prompt") == item.prompt
        and meta.get("generation_prompt", meta.get("prompt")) == item.text_for_model
    )
