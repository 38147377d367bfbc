"""Each prompt is encoded once per worker; the unconditional embedding once per worker."""

from __future__ import annotations

from pathlib import Path

from repvideo_eval import registry
from repvideo_eval.config import Suite
from repvideo_eval.generation.items import generation_items
from repvideo_eval.generation.worker import VideoGenerator
from repvideo_eval.registry import VBENCH_FLICKER_SAMPLES


def _count_encoder_calls(worker: VideoGenerator) -> list[int]:
    calls: list[int] = []
    worker.pipe.text_encoder.register_forward_hook(lambda *args: calls.append(1))
    return calls


def _suite(samples: dict[str, int | None]) -> Suite:
    from repvideo_eval.config import PromptEntry

    prompts = tuple(PromptEntry(text=t, samples=n) for t, n in samples.items())
    return Suite(name="count", prompts=prompts, samples_per_prompt=2)


def _small_card(negative_prompt: str = ""):
    base = registry.load_card("repvideo-tiny").to_dict()
    sampler = {"preset": "tiny", "num_inference_steps": 1, "num_frames": 5, "height": 32}
    sampler.update(width=32, negative_prompt=negative_prompt)
    return registry.card_from_dict({**base, "sampler": sampler})


def test_worker_encodes_each_prompt_once_and_never_the_empty_negative(tmp_path: Path) -> None:
    card = _small_card()
    # 2 samples of one prompt, 1 of another, then the first prompt again (a retry).
    items = generation_items(card, _suite({"a red car": 2, "a blue boat": 1}), tmp_path)
    worker = VideoGenerator(card.to_dict(), device="cpu")
    calls = _count_encoder_calls(worker)
    for item in [*items, items[0]]:
        worker.process(item)
    assert len(calls) == 2 == worker.embeddings.encoder_calls


def test_a_real_negative_prompt_is_encoded_once_per_worker(tmp_path: Path) -> None:
    worker = VideoGenerator(_small_card("blurry, low quality").to_dict(), device="cpu")
    calls = _count_encoder_calls(worker)
    for prompt in ("a red car", "a blue boat", "a red car"):
        embeds = worker.embeddings.conditional(prompt)
        negative = worker.embeddings.unconditional(embeds)
        assert negative.shape == embeds.shape and bool(negative.abs().sum() > 0)
    assert len(calls) == 3  # two prompts + the negative prompt


def test_flicker_prompts_with_25_samples_share_one_encoding(tmp_path: Path) -> None:
    """The item list a worker sees for a temporal-flickering prompt: 25 seeds, one encoding."""
    card = registry.load_card("cogvideox-tiny")
    suite = _suite({"a candle flame": VBENCH_FLICKER_SAMPLES})
    items = generation_items(card, suite, tmp_path)
    worker = VideoGenerator(card.to_dict(), device="cpu")
    calls = _count_encoder_calls(worker)
    for item in items:
        worker.embeddings.conditional(item.prompt)
    assert len(items) == 25 and len(calls) == 1
