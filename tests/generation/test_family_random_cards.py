"""Every hub card of a supported family has a full-size random twin, `<card>-random`, that samples
as the real card does on the architecture of the real card's weights. Cards only, no model build
(tests/generation/test_random_families.py builds them on the meta device): the list comes from
models/, so a family's new hub card is covered the day it is added."""

from __future__ import annotations

import pytest

from repvideo_eval import registry
from repvideo_eval.config import ModelCard
from repvideo_eval.families import FAMILIES
from repvideo_eval.generation.random_twins import (
    architecture_configs,
    architecture_of,
    module_components,
)

RANDOM_SUFFIX = "-random"


def _cards() -> dict[str, ModelCard]:
    return {name: registry.load_card(name) for name in registry.list_models()}


CARDS = _cards()
HUB_CARDS = sorted(
    name for name, card in CARDS.items() if card.source == "hub" and FAMILIES[card.family].supported
)


def test_the_hub_cards_are_found() -> None:
    assert {"cogvideox-2b", "wan2.2-a14b", "hunyuanvideo", "mochi-1"} <= set(HUB_CARDS)


@pytest.mark.parametrize("name", HUB_CARDS)
def test_every_hub_card_has_a_random_twin_with_its_settings(name: str) -> None:
    real = CARDS[name]
    twin = CARDS.get(name + RANDOM_SUFFIX)
    assert twin is not None, f"write models/{name}{RANDOM_SUFFIX}.yaml (source: random)"
    assert twin.is_random and twin.random_seed is not None
    # Everything that decides how a video is sampled is the real card's.
    assert twin.sampler == real.sampler
    assert (twin.family, twin.pipeline, twin.dtype) == (real.family, real.pipeline, real.dtype)
    assert twin.memory == real.memory and twin.speed == real.speed
    assert twin.repvideo == real.repvideo and twin.twin == real.twin
    assert twin.card_hash != real.card_hash

    # The architecture is the one of the real card's weights, with the family's classes.
    configs = architecture_configs(architecture_of(twin.hub_id))
    assert configs["_source"]["hub_id"] == real.hub_id
    facts = FAMILIES[real.family]
    assert configs["_pipeline"] == (real.pipeline or facts.pipeline)
    # the class by name (no import): test_full_size.py checks each name builds that class
    assert configs["_classes"]["transformer"] == f"diffusers.{facts.transformer}"
    assert set(configs["_parameters"]) == set(module_components(configs))


def test_every_random_card_is_the_twin_of_a_hub_card() -> None:
    random = [name for name, card in CARDS.items() if card.is_random]
    assert random and all(name.endswith(RANDOM_SUFFIX) for name in random)
    assert {name.removesuffix(RANDOM_SUFFIX) for name in random} <= set(HUB_CARDS)
