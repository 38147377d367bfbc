"""Tiny twins generate real mp4s offline, deterministically, with the official sampler's rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from repvideo_eval import registry
from repvideo_eval.generation.items import generation_complete, generation_items
from repvideo_eval.generation.pipelines import load_pipeline, sample_video
from repvideo_eval.generation.video_io import read_video_frames
from repvideo_eval.generation.worker import VideoGenerator


@pytest.fixture(scope="module")
def tiny_pipes():
    base = registry.load_card("cogvideox-tiny")
    rep = registry.load_card("repvideo-tiny")
    return {"base": (base, load_pipeline(base, "cpu")), "rep": (rep, load_pipeline(rep, "cpu"))}


def test_same_seed_same_video_and_different_seed_different_video(tiny_pipes) -> None:
    card, pipe = tiny_pipes["base"]
    a, info = sample_video(pipe, card, "a cat on the left of a dog", seed=7)
    b, _ = sample_video(pipe, card, "a cat on the left of a dog", seed=7)
    c, _ = sample_video(pipe, card, "a cat on the left of a dog", seed=8)
    assert a.shape == (card.sampler.num_frames, card.sampler.height, card.sampler.width, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # What diffusers applied per step is the schedule we record (sampler parity, dynamic CFG).
    np.testing.assert_allclose(
        info["guidance_applied"], info["guidance_schedule"], rtol=0, atol=1e-9
    )
    assert info["uncond"] == "zero-embeddings"


def test_repvideo_twin_differs_from_baseline_with_same_weights_and_seed(tiny_pipes) -> None:
    base_card, base_pipe = tiny_pipes["base"]
    rep_card, rep_pipe = tiny_pipes["rep"]
    assert base_card.sampler == rep_card.sampler  # sampler parity between the pair
    gates = rep_pipe.transformer.repvideo_gates.detach()
    assert gates.shape == (rep_pipe.transformer.config.num_layers,) and bool((gates != 0).any())
    a, _ = sample_video(base_pipe, base_card, "waves crashing on rocks", seed=1)
    b, _ = sample_video(rep_pipe, rep_card, "waves crashing on rocks", seed=1)
    assert not np.array_equal(a, b)


def test_gates_off_reproduce_the_baseline_video(tiny_pipes) -> None:
    base_card, base_pipe = tiny_pipes["base"]
    off_card = registry.card_from_dict(
        {
            **registry.load_card("repvideo-tiny").to_dict(),
            "repvideo": {"cache_window": 6, "gates": "off"},
        }
    )
    off_pipe = load_pipeline(off_card, "cpu")
    a, _ = sample_video(base_pipe, base_card, "a bicycle and a car", seed=3)
    b, _ = sample_video(off_pipe, off_card, "a bicycle and a car", seed=3)
    np.testing.assert_array_equal(a, b)


def test_worker_writes_video_then_sidecar_and_items_are_complete(tmp_path: Path) -> None:
    card = registry.load_card("repvideo-tiny")
    suite = registry.load_suite("smoke")
    items = generation_items(card, suite, tmp_path)[:1]
    assert not generation_complete(items[0])
    worker = VideoGenerator(card.to_dict(), device="cpu")
    worker.process(items[0])
    assert generation_complete(items[0])
    frames = read_video_frames(Path(items[0].video_path))
    assert frames.shape == (9, 64, 64, 3) and frames.dtype == np.uint8
    sidecar = json.loads(Path(items[0].sidecar_path).read_text())
    assert sidecar["prompt"] == items[0].prompt and sidecar["seed"] == items[0].seed
    assert sidecar["card_hash"] == card.card_hash
    assert sidecar["settings"]["repvideo"]["cache_window"] == 6
    assert "torch" in sidecar["versions"] and sidecar["device"].startswith("cpu")
    # A sidecar that names another seed means the video is not this item's.
    Path(items[0].sidecar_path).write_text(json.dumps({**sidecar, "seed": sidecar["seed"] + 1}))
    assert not generation_complete(items[0])
    # No temporary files are left behind.
    assert not list(tmp_path.rglob("*.tmp*"))


def test_one_run_worker_serves_every_model_with_one_load_each(tmp_path: Path, monkeypatch) -> None:
    """A run's worker holds one model at a time: the first at start, each next one when its
    items arrive. The videos equal those of a worker built for the model alone."""
    from repvideo_eval.generation import worker as worker_module

    cards = [registry.load_card("cogvideox-tiny"), registry.load_card("repvideo-tiny")]
    suite = registry.load_suite("smoke")
    items = [item for card in cards for item in generation_items(card, suite, tmp_path)[:2]]
    loads: list[str] = []
    real_load = worker_module.load_pipeline
    monkeypatch.setattr(
        worker_module,
        "load_pipeline",
        lambda card, device: loads.append(card.name) or real_load(card, device),
    )
    run_worker = worker_module.RunGenerator([card.to_dict() for card in cards], device="cpu")
    assert loads == ["cogvideox-tiny"]  # the first model is loaded when the worker starts
    for item in items:
        run_worker.process(item)
    assert loads == ["cogvideox-tiny", "repvideo-tiny"]
    assert all(generation_complete(item) for item in items)
    alone = VideoGenerator(cards[1].to_dict(), device="cpu")
    own = generation_items(cards[1], suite, tmp_path / "alone")[0]
    alone.process(own)
    assert Path(own.video_path).read_bytes() == Path(items[2].video_path).read_bytes()
    stranger = generation_items(registry.load_card("wan-tiny"), suite, tmp_path)[0]
    with pytest.raises(ValueError, match="which this run does not hold"):
        run_worker.process(stranger)
