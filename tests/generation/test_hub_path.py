"""The real-weight loading path, executed on CPU with tiny checkpoints in the real on-disk formats:
a diffusers pipeline folder for CogVideoX and a SAT checkpoint for RepVideo, converted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from diffusers import CogVideoXPipeline
from repvideo.sat_fixture import sat_state_from_diffusers, write_sat_checkpoint

from repvideo_eval import registry
from repvideo_eval.generation.pipelines import load_pipeline, sample_video
from repvideo_eval.generation.tiny import (
    build_tiny_components,
    tiny_learned_gates,
    tiny_transformer_config,
)
from repvideo_eval.repvideo.sat_convert import convert_sat_checkpoint


@pytest.fixture(scope="module")
def saved_checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub")
    components = build_tiny_components(0)
    CogVideoXPipeline(**components).save_pretrained(root / "cogvideox-pipeline")
    transformer = components["transformer"]
    gates = tiny_learned_gates(transformer.config.num_layers, 0)
    write_sat_checkpoint(root / "sat", sat_state_from_diffusers(transformer, gates))
    config = tiny_transformer_config()
    overrides = {
        k: config[k]
        for k in ("sample_width", "sample_height", "sample_frames", "max_text_seq_length")
    }
    convert_sat_checkpoint(
        root / "sat", root / "converted", config_overrides={**overrides, "norm_eps": 1e-5}
    )
    return {
        "pipeline": root / "cogvideox-pipeline",
        "sat": root / "sat",
        "converted": root / "converted",
    }


def hub_card(name: str, **fields) -> object:
    tiny = registry.load_card(name).to_dict()
    return registry.card_from_dict({**tiny, "source": "hub", "tiny_seed": None, **fields})


def test_pipeline_folder_loads_and_samples_like_the_in_memory_twin(saved_checkpoints) -> None:
    card = hub_card("cogvideox-tiny", weights=str(saved_checkpoints["pipeline"]))
    twin = registry.load_card("cogvideox-tiny")
    a, _ = sample_video(load_pipeline(card, "cpu"), card, "a red car driving down a road", seed=5)
    b, _ = sample_video(load_pipeline(twin, "cpu"), twin, "a red car driving down a road", seed=5)
    np.testing.assert_array_equal(a, b)


def test_converted_sat_repvideo_with_learned_gates_matches_the_twin(saved_checkpoints) -> None:
    card = hub_card(
        "repvideo-tiny",
        weights=str(saved_checkpoints["pipeline"]),
        transformer_weights=str(saved_checkpoints["converted"]),
    )
    pipe = load_pipeline(card, "cpu")
    expected_gates = tiny_learned_gates(pipe.transformer.config.num_layers, 0)
    np.testing.assert_allclose(
        pipe.transformer.repvideo_gates.detach().numpy(), expected_gates.numpy(), rtol=0, atol=0
    )
    twin = registry.load_card("repvideo-tiny")
    a, _ = sample_video(pipe, card, "a bicycle and a car", seed=9)
    b, _ = sample_video(load_pipeline(twin, "cpu"), twin, "a bicycle and a car", seed=9)
    np.testing.assert_array_equal(a, b)


def test_learned_gates_without_a_checkpoint_is_a_user_error(saved_checkpoints) -> None:
    from repvideo_eval.errors import UserError

    card = hub_card("repvideo-tiny", weights=str(saved_checkpoints["pipeline"]))
    with pytest.raises(UserError, match="learned gates but its weights carry none"):
        load_pipeline(card, "cpu")
