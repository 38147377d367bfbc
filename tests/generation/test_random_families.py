"""The registered full-size random twins of every family (models/<card>-random.yaml) through
generation/pipelines.py's random path, built on the meta device (real shapes, no memory): the
architecture file's pipeline class and arguments, offline tokenizers, and RepVideo on every
transformer of the pipeline."""

from __future__ import annotations

import dataclasses

import pytest

from repvideo_eval import registry
from repvideo_eval.config import RepVideoSettings
from repvideo_eval.generation import pipelines, random_twins
from repvideo_eval.repvideo import is_repvideo, pipeline_transformers

#: one random card per architecture kind (wan2.1-14b-random is wan2.1-1.3b-random's, deeper)
RANDOM_CARDS = (
    "wan2.2-a14b-random",
    "hunyuanvideo-random",
    "hunyuanvideo1.5-random",
    "ltx-video-random",
    "ltx-2-random",
    "mochi-1-random",
    "wan2.1-1.3b-random",
    "wan2.2-ti2v-5b-random",
    "cogvideox1.5-5b-random",
)
FIXED = RepVideoSettings(cache_window=6, gates="fixed", gate_value=0.5)


@pytest.fixture
def on_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Components stay on the meta device: the pipeline build without making any weight."""

    def empty(architecture, component, seed, dtype, device, overrides=None):
        return random_twins.build_empty_component(architecture, component, overrides)

    monkeypatch.setattr(random_twins, "build_random_component", empty)


@pytest.mark.parametrize("name", RANDOM_CARDS)
def test_every_family_builds_its_random_pipeline_with_repvideo(name: str, on_meta: None) -> None:
    card = dataclasses.replace(registry.load_card(name), repvideo=FIXED)
    pipe, offload = pipelines._random_pipeline(card, "cpu")
    configs = random_twins.architecture_configs(random_twins.architecture_of(card.hub_id))
    assert type(pipe).__name__ == configs["_pipeline"] and offload == "none"
    transformers = pipeline_transformers(pipe)
    expected = [a for a in ("transformer", "transformer_2") if a in configs]
    assert len(transformers) == len(expected)
    for attribute, transformer in zip(expected, transformers):
        assert transformer is getattr(pipe, attribute) and is_repvideo(transformer)
        assert transformer.repvideo_cache_window == 6
        config = configs[attribute]
        blocks = config["num_layers"] + config.get("num_single_layers", 0)
        assert transformer.repvideo_gates.shape[0] == blocks  # one gate per block of its loop
    arguments = {
        **configs.get("_pipeline_args", {}),
        **dict(dict(card.components).get("pipeline", {})),
    }
    for argument, value in arguments.items():
        assert pipe.config[argument] == value  # e.g. Wan 2.2 A14B's boundary_ratio
    if "transformer_2" in configs:  # without a boundary the second expert would never run
        assert pipe.config["boundary_ratio"] is not None
    if card.family == "wan2.2":  # TI2V-5B's per-token timesteps
        assert pipe.config["expand_timesteps"] is True
    if card.family == "hunyuanvideo1.5":  # the parts no architecture file holds come offline
        assert type(pipe.guider).__name__ == "ClassifierFreeGuidance"
        assert type(pipe.tokenizer_2).__name__ == "ByT5Tokenizer" and pipe.tokenizer.chat_template
        system = pipe.tokenizer(pipe.system_message, add_special_tokens=False).input_ids
        assert pipe.prompt_template_encode_start_idx > len(system)  # the offline template's crop
