"""The generation workers: `VideoGenerator` loads one model once, then turns work items into mp4 +
sidecar pairs; `RunGenerator` serves every model of a run from one process, one model at a time.

The Ray layer constructs one `RunGenerator` per GPU (or per CPU worker) and feeds it the run's
items, grouped by model; neither class knows anything about Ray, so both run in-process in tests.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from repvideo_eval.atomic import write_json_atomic
from repvideo_eval.config import ModelCard
from repvideo_eval.crashpoints import crash_point
from repvideo_eval.devices import resolve_device
from repvideo_eval.generation.items import GenerationItem
from repvideo_eval.generation.pipelines import load_pipeline, sample_video
from repvideo_eval.generation.prompt_cache import PromptEmbeddings
from repvideo_eval.generation.provenance import device_description, package_versions
from repvideo_eval.generation.video_io import write_video_atomic
from repvideo_eval.vocabulary import DEFAULT_DEVICE


class VideoGenerator:
    """Holds a loaded pipeline; `process` writes the item's video, then its sidecar."""

    def __init__(self, card: Mapping[str, Any], device: str = DEFAULT_DEVICE) -> None:
        from diffusers.utils import logging as diffusers_logging

        from repvideo_eval.registry import card_from_dict

        # Per-prompt truncation notices and dtype hints would drown the progress bars.
        diffusers_logging.set_verbosity_error()

        self.card: ModelCard = card_from_dict(dict(card))
        self.device = resolve_device(device)
        self.pipe = load_pipeline(self.card, self.device)
        self.embeddings = PromptEmbeddings(
            self.pipe, self.card.sampler, family=self.card.family
        )  # one encode per prompt
        self.versions = package_versions()
        self.device_text = device_description(self.device)

    def process(self, item: GenerationItem) -> dict[str, Any]:
        if item.card_hash != self.card.card_hash:
            raise ValueError(
                f"item {item.key} belongs to card {item.card_hash}, worker holds {self.card.card_hash}"
            )
        started = time.perf_counter()
        text = item.text_for_model  # a prompt set's line; names and scores keep item.prompt
        frames, sampler_info = sample_video(self.pipe, self.card, text, item.seed, self.embeddings)
        write_video_atomic(frames, Path(item.video_path), fps=self.card.sampler.fps)
        crash_point("video-written")
        seconds = time.perf_counter() - started
        sidecar = {
            "prompt": item.prompt,
            "generation_prompt": text,
            "prompt_set": item.prompt_set,
            "text_tokens_dropped": self.embeddings.tokens_dropped(text),
            "text_token_limit": self.embeddings.max_length,
            "prompt_index": item.prompt_index,
            "sample": item.sample,
            "seed": item.seed,
            "model": self.card.name,
            "card_hash": self.card.card_hash,
            "settings": self.card.generation_dict(),
            "sampler_trace": sampler_info,
            "runtime": self.pipe.repvideo_eval_runtime,
            "frames": int(frames.shape[0]),
            "height": int(frames.shape[1]),
            "width": int(frames.shape[2]),
            "versions": self.versions,
            "device": self.device_text,
            "seconds": round(seconds, 3),
        }
        write_json_atomic(sidecar, Path(item.sidecar_path))  # last: it marks the item finished
        crash_point("sidecar-written")
        return {"seconds": seconds, "video": item.video_path}


class RunGenerator:
    """Every model of a run in one worker process: the first model is loaded when the worker
    starts (a load error stops the run, as for one model), the next when its first item arrives,
    after the previous pipeline is freed. Items come grouped by model, so each worker loads each
    model at most once, and a run of N models pays one process start per worker, not N."""

    def __init__(self, cards: Sequence[Mapping[str, Any]], device: str = DEFAULT_DEVICE) -> None:
        if not cards:
            raise ValueError("RunGenerator needs at least one model card")
        from repvideo_eval.registry import card_from_dict

        self.cards = {card_from_dict(dict(card)).card_hash: card for card in cards}
        self.device = device
        self.current: VideoGenerator | None = VideoGenerator(cards[0], device)

    def _hold(self, card_hash: str) -> VideoGenerator:
        if self.current is not None and self.current.card.card_hash == card_hash:
            return self.current
        if card_hash not in self.cards:
            raise ValueError(f"item belongs to card {card_hash}, which this run does not hold")
        self.current = None  # the old pipeline is freed before the next one loads
        gc.collect()
        _empty_device_cache(self.device)
        self.current = VideoGenerator(self.cards[card_hash], self.device)
        return self.current

    def process(self, item: GenerationItem) -> dict[str, Any]:
        return self._hold(item.card_hash).process(item)


def _empty_device_cache(device: str) -> None:
    import torch

    if resolve_device(device).startswith("cuda"):
        torch.cuda.empty_cache()
