"""Validation of the analysis inputs (steps, prompts, query frame), before anything runs.

Every problem is a one-line UserError naming the fix, raised before a model is loaded or a file
is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from repvideo_eval.config import ModelCard
from repvideo_eval.errors import UserError

#: The steps of the paper's Fig. 5 (of 50 sampler steps).
PAPER_STEPS = (5, 20, 35, 50)
PAPER_NUM_STEPS = 50
_SUITE_SUFFIXES = (".txt", ".yaml", ".yml")


def default_steps(num_inference_steps: int) -> tuple[int, ...]:
    """The paper's steps 5, 20, 35, 50 rescaled to ``num_inference_steps`` (exactly them for 50)."""
    scaled = {max(1, round(step * num_inference_steps / PAPER_NUM_STEPS)) for step in PAPER_STEPS}
    return tuple(sorted(scaled))


def parse_steps(text: str | None, cards: Sequence[ModelCard]) -> tuple[int, ...]:
    """1-based sampler steps from ``"5,20,35,50"``; each must be within every card's step count."""
    fewest = min(card.sampler.num_inference_steps for card in cards)
    if text is None or not text.strip():
        return default_steps(fewest)
    steps: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            step = int(part)
        except ValueError:
            raise UserError(
                f"--steps: {part!r} is not an integer",
                "Give 1-based sampler steps, e.g. --steps 5,20,35,50.",
            ) from None
        if step < 1:
            raise UserError(f"--steps: step {step} is below 1", "Sampler steps are counted from 1.")
        for card in cards:
            if step > card.sampler.num_inference_steps:
                raise UserError(
                    f"--steps: step {step} exceeds {card.name}'s {card.sampler.num_inference_steps} sampler steps",
                    f"Choose steps between 1 and {card.sampler.num_inference_steps}.",
                )
        if step not in steps:
            steps.append(step)
    if not steps:
        raise UserError("--steps is empty", "Give 1-based sampler steps, e.g. --steps 5,20,35,50.")
    return tuple(sorted(steps))


def resolve_prompts(text: str, limit: int | None = None) -> tuple[str, ...]:
    """Prompts from a suite name, a .txt/.yaml path, or else the text itself as one literal prompt."""
    from repvideo_eval import registry

    text = text.strip()
    if not text:
        raise UserError(
            "--prompts is empty",
            "Give a suite name (e.g. smoke), a .txt file, or a prompt in quotes.",
        )
    path = Path(text)
    is_suite = (
        path.is_file()
        or text in registry.list_suites()
        or (text.startswith("vbench/") and " " not in text)  # load_suite names unknown ones
    )
    if is_suite:
        prompts = tuple(entry.text for entry in registry.load_suite(text).prompts)
    elif path.suffix in _SUITE_SUFFIXES:
        raise UserError(
            f"prompt file {text} does not exist", "Check the path, or quote a literal prompt."
        )
    else:
        prompts = (text,)
    if limit is not None:
        if limit < 1:
            raise UserError("--limit-prompts must be >= 1", "Pass a positive number of prompts.")
        prompts = prompts[:limit]
    return prompts


def latent_frames(
    card: ModelCard, temporal_compression: int = 4, patch_size_t: int | None = None
) -> int:
    """Token frames of a card's videos: latent frames (1 + (frames - 1) / 4), grouped by ``patch_size_t``."""
    frames = (card.sampler.num_frames - 1) // temporal_compression + 1
    return frames if not patch_size_t else (frames + patch_size_t - 1) // patch_size_t


def check_query_frame(query_frame: int | None, frames: int) -> int:
    """The frame whose attention map is kept: the middle one by default, else 0..frames-1."""
    if query_frame is None:
        return frames // 2
    if not 0 <= query_frame < frames:
        raise UserError(
            f"--query-frame {query_frame} is outside the {frames} latent frames of these videos",
            f"Choose a latent frame between 0 and {frames - 1}.",
        )
    return query_frame
