"""Full-size random twins of every family through generation/pipelines.py's random path, built on
the meta device (real shapes, no memory): the architecture file's pipeline class, offline
tokenizers, the card's pipeline arguments, and RepVideo on every transformer of the pipeline."""

from __future__ import annotations

import dataclasses

import pytest

from repvideo_eval import registry
from repvideo_eval.config import RepVideoSettings
from repvideo_eval.generation import pipelines, random_twins
from repvideo_eval.repvideo import is_repvideo, pipeline_transformers

#: architecture file -> the real card whose sampler and pipeline arguments the twin takes
ARCHITECTURES = {
    "wan2.2-t2v-a14b": "wan2.2-a14b",
    "hunyuanvideo": "hunyuanvideo",
    "ltx-video": "ltx-video",
    "mochi-1": "mochi-1",
    "wan2.1-t2v-1.3b": "wan2.1-1.3b",
    "wan2.2-ti2v-5b": "wan2.2-ti2v-5b",
    "cogvideox1.5-5b": "cogvideox1.5-5b",
}
FIXED = RepVideoSettings(cache_window=6, gates="fixed", gate_value=0.5)


@pytest.fixture
def on_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Components stay on the meta device: the pipeline build without making any weight."""

    def empty(architecture, component, seed, dtype, device, overrides=None):
        return random_twins.build_empty_component(architecture, component, overrides)

    monkeypatch.setattr(random_twins, "build_random_component", empty)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_family_builds_its_random_pipeline_with_repvideo(
    architecture: str, on_meta: None
) -> None:
    real = registry.load_card(ARCHITECTURES[architecture])
    card = dataclasses.replace(
        real,
        name=f"{architecture}-random",
        source="random",
        hub_id=f"random:{architecture}",
        random_seed=0,
        repvideo=FIXED,
    )
    pipe, offload = pipelines._random_pipeline(card, "cpu")
    configs = random_twins.architecture_configs(architecture)
    assert type(pipe).__name__ == configs["_pipeline"] and offload == "none"
    transformers = pipeline_transformers(pipe)
    expected = [name for name in ("transformer", "transformer_2") if name in configs]
    assert len(transformers) == len(expected)
    for name, transformer in zip(expected, transformers):
        assert transformer is getattr(pipe, name) and is_repvideo(transformer)
        assert transformer.repvideo_cache_window == 6
        blocks = configs[name]["num_layers"] + configs[name].get("num_single_layers", 0)
        assert transformer.repvideo_gates.shape[0] == blocks  # one gate per block of its loop
    for name, pipeline_argument in dict(dict(real.components).get("pipeline", {})).items():
        assert pipe.config[name] == pipeline_argument  # e.g. Wan 2.2 A14B's boundary_ratio
