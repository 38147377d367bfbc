"""The full-size random cards: registered, hashed apart, and loaded by the real cards' code.

Building them at full size is the slow tests' job (test_full_size.py, make gpu-check-cpu); here
the architecture configs are swapped for the tiny twin's, so the random source path itself
(meta build, seeded fill in the card's dtype, RepVideo gates, options) runs in seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from repvideo_eval import registry
from repvideo_eval.errors import UserError
from repvideo_eval.generation import random_twins
from repvideo_eval.generation.pipelines import load_pipeline, sample_video
from repvideo_eval.generation.tiny import tiny_transformer_config, tiny_vae_config

RANDOM_CARDS = ("cogvideox-2b-random", "repvideo-2b-random", "cogvideox-5b-random")


def test_random_cards_are_registered_with_their_real_settings() -> None:
    cards = {name: registry.load_card(name) for name in RANDOM_CARDS}
    assert all(card.is_random and card.random_seed == 0 for card in cards.values())
    assert cards["repvideo-2b-random"].repvideo.cache_window == 6
    assert cards["cogvideox-2b-random"].sampler == registry.load_card("cogvideox-2b").sampler
    assert cards["cogvideox-5b-random"].dtype == "bfloat16"
    assert all(card.memory.vae_tiling for card in cards.values())
    hashes = {card.card_hash for card in cards.values()}
    assert len(hashes) == 3 and not hashes & {registry.load_card("cogvideox-2b").card_hash}
    configs = random_twins.architecture_configs("cogvideox-5b")
    assert configs["transformer"]["num_layers"] == 42
    assert configs["transformer"]["num_attention_heads"] * 64 == 3072


def test_unknown_architecture_is_a_user_error() -> None:
    card = dataclasses.replace(registry.load_card("cogvideox-2b-random"), hub_id="random:sora")
    with pytest.raises(UserError, match="unknown random-twin architecture 'sora'"):
        load_pipeline(card, "cpu")


@pytest.fixture
def tiny_architectures(monkeypatch):
    from repvideo_eval.generation.tiny import tiny_text_encoder_config

    def tiny(name: str) -> dict:
        real = json_configs[name]
        text = tiny_text_encoder_config().to_dict()
        return {
            "transformer": tiny_transformer_config(),
            "vae": {**tiny_vae_config(), "sample_height": 128, "sample_width": 128},
            "text_encoder": {k: text[k] for k in real["text_encoder"] if k in text},
            "scheduler": real["scheduler"],
        }

    json_configs = {name: random_twins.architecture_configs(name) for name in ("cogvideox-2b",)}
    monkeypatch.setattr(random_twins, "architecture_configs", tiny)


def test_random_source_builds_in_the_card_dtype_and_samples(tiny_architectures) -> None:
    base = registry.load_card("cogvideox-2b-random")
    tiny_sampler = registry.load_card("cogvideox-tiny").sampler
    rep = dataclasses.replace(registry.load_card("repvideo-2b-random"), sampler=tiny_sampler)
    base = dataclasses.replace(base, sampler=tiny_sampler)
    pipes = {card.name: load_pipeline(card, "cpu") for card in (base, rep)}
    for pipe in pipes.values():
        assert {p.dtype for p in pipe.transformer.parameters()} == {torch.float16}
        assert pipe.vae.use_tiling and pipe.vae.use_slicing
        assert pipe.repvideo_eval_runtime["memory"]["offload"] == "none"
    gates = pipes["repvideo-2b-random"].transformer.repvideo_gates.detach().float()
    expected = random_twins.random_learned_gates(gates.shape[0], 0)
    torch.testing.assert_close(gates, expected.half().float())
    a, _ = sample_video(pipes["cogvideox-2b-random"], base, "a cat", seed=1)
    b, _ = sample_video(pipes["repvideo-2b-random"], rep, "a cat", seed=1)
    assert a.shape == b.shape == (9, 64, 64, 3) and np.isfinite(a).all()
    assert not np.array_equal(a, b)  # same weights, RepVideo's mix on
