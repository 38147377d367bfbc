"""The real-weight loading path, executed on CPU with tiny checkpoints in the real on-disk formats:
a diffusers pipeline folder for CogVideoX and a SAT checkpoint for RepVideo, converted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from repvideo.sat_fixture import write_tiny_real_format_checkpoints

from repvideo_eval import registry
from repvideo_eval.generation.pipelines import load_pipeline, sample_video
from repvideo_eval.generation.tiny import (
    tiny_learned_gates,
)


@pytest.fixture(scope="module")
def saved_checkpoints(tmp_path_factory) -> dict[str, Path]:
    # norm_eps 1e-5: the in-memory tiny twin's value, so the converted model reproduces it.
    return write_tiny_real_format_checkpoints(tmp_path_factory.mktemp("hub"), norm_eps=1e-5)


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
