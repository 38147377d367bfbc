"""The worker under a prompt set: the model gets the set's line, the sidecar records both texts
and the text-encoder tokens the limit dropped, the prompt cache keys on the text given."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from repvideo_eval import prompt_sets, registry
from repvideo_eval.generation.items import generation_complete, generation_items
from repvideo_eval.generation.worker import VideoGenerator


def _small_card():
    base = registry.load_card("cogvideox-tiny").to_dict()
    sampler = {"preset": "tiny", "num_inference_steps": 1, "num_frames": 5, "height": 32}
    return registry.card_from_dict({**base, "sampler": {**sampler, "width": 32}})


def test_sidecar_holds_both_texts_and_the_dropped_token_count(tmp_path: Path) -> None:
    card = _small_card()
    gpt = prompt_sets.load_prompt_set("gpt-enhanced")
    suite = prompt_sets.apply_prompt_set(registry.vbench_suite("object_class"), gpt)
    suite = dataclasses.replace(suite, prompts=suite.prompts[:1], samples_per_prompt=1)
    (item,) = generation_items(card, suite, tmp_path, gpt.name)
    worker = VideoGenerator(card.to_dict(), device="cpu")
    worker.process(item)

    sidecar = json.loads(Path(item.sidecar_path).read_text())
    index = next(
        i for i, e in enumerate(registry.vbench_full_info()) if e["prompt_en"] == item.prompt
    )
    assert sidecar["prompt"] == registry.vbench_suite("object_class").prompts[0].text
    assert sidecar["generation_prompt"] == gpt.lines[index] != sidecar["prompt"]
    assert sidecar["prompt_set"] == "gpt-enhanced" and sidecar["prompt_index"] == 0
    tokens = len(worker.pipe.tokenizer(gpt.lines[index]).input_ids)
    limit = worker.pipe.transformer.config.max_text_seq_length
    assert sidecar["text_token_limit"] == limit
    assert sidecar["text_tokens_dropped"] == tokens - limit > 0
    # The cache holds the text the model was given, never the name it is saved under.
    assert list(worker.embeddings._prompts) == [gpt.lines[index]]
    assert Path(item.video_path).name == f"{item.prompt}-0.mp4"
    assert generation_complete(item)
    # The same video under the standard set is not this one: it must be generated again.
    assert not generation_complete(dataclasses.replace(item, generation_prompt=None))


def test_a_prompt_within_the_limit_drops_nothing(tmp_path: Path) -> None:
    worker = VideoGenerator(_small_card().to_dict(), device="cpu")
    assert worker.embeddings.tokens_dropped("a dog") == 0
    limit = worker.embeddings.max_length
    # The tiny tokenizer is one token per character plus end-of-sequence.
    assert worker.embeddings.tokens_dropped("x" * (limit - 1)) == 0
    assert worker.embeddings.tokens_dropped("x" * (limit + 4)) == 5
