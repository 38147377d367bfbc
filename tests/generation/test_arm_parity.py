"""Baseline and RepVideo differ only in the method.

The registered cards `cogvideox-2b` and `repvideo-2b` are loaded from tiny checkpoints in the real
on-disk formats (a diffusers pipeline folder for the baseline, the official SAT checkpoint for
RepVideo, converted as on first use), so each arm goes through its real loading path.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from diffusers import CogVideoXPipeline
from repvideo.sat_fixture import write_tiny_real_format_checkpoints

from repvideo_eval import registry
from repvideo_eval.config import MemorySettings, ModelCard, RepVideoSettings
from repvideo_eval.generation.items import generation_items
from repvideo_eval.generation.pipelines import load_pipeline
from repvideo_eval.generation.worker import VideoGenerator


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """The baseline's pipeline folder (stock diffusers config) and RepVideo converted from SAT
    (norm_eps stays the converter's SAT value)."""
    return write_tiny_real_format_checkpoints(tmp_path_factory.mktemp("arms"))


def registered(name: str, checkpoints: dict[str, Path], **fields) -> ModelCard:
    """A registered card, its weights pointed at the local tiny checkpoints."""
    card = registry.load_card(name)
    local = {"hub_id": str(checkpoints["pipeline"])}
    if card.transformer_weights:
        local["transformer_weights"] = str(checkpoints["converted"])
    # The tiny VAE cannot tile at the tiny size (the harness refuses it), so both arms decode
    # untiled here; the real cards share their memory settings (test_registry checks the cards).
    return dataclasses.replace(card, **local, memory=MemorySettings(), **fields)


def test_transformer_configs_are_equal_but_for_repvideo(checkpoints) -> None:
    baseline = load_pipeline(registered("cogvideox-2b", checkpoints), "cpu").transformer
    method = load_pipeline(registered("repvideo-2b", checkpoints), "cpu").transformer
    stock = CogVideoXPipeline.from_pretrained(checkpoints["pipeline"]).transformer
    assert stock.config.norm_eps == 1e-5  # the stock config: the card's override is what aligns
    assert baseline.config.norm_eps == method.config.norm_eps == 1e-6

    def fields(model) -> dict:
        return {k: v for k, v in model.config.items() if not k.startswith("_")}

    assert fields(baseline) == fields(method)
    assert method.repvideo_cache_window == 6 and not hasattr(baseline, "repvideo_gates")


def test_a_transformer_config_field_the_model_lacks_is_a_user_error(checkpoints) -> None:
    from repvideo_eval.errors import UserError

    card = registered("cogvideox-2b", checkpoints, transformer_config=(("norm_epsilon", 1e-6),))
    with pytest.raises(UserError, match="transformer_config.norm_epsilon is not a field"):
        load_pipeline(card, "cpu")


def test_repvideo_off_on_the_baseline_weights_writes_the_baseline_videos(
    checkpoints, tmp_path: Path
) -> None:
    """End to end through the generation worker: the same mp4 bytes, prompt for prompt."""
    tiny = registry.load_card("cogvideox-tiny")
    baseline = registered("cogvideox-2b", checkpoints, dtype="float32", sampler=tiny.sampler)
    off = baseline.with_repvideo(RepVideoSettings(gates="off"), name="repvideo-off")
    assert off.card_hash != baseline.card_hash  # two video folders, not one reused
    suite = registry.load_suite("smoke")
    suite = dataclasses.replace(suite, prompts=suite.prompts[:2])
    videos: dict[str, list[bytes]] = {}
    for card in (baseline, off):
        worker = VideoGenerator(card.to_dict(), device="cpu")
        items = generation_items(card, suite, tmp_path / "run")
        for item in items:
            worker.process(item)
        videos[card.name] = [Path(item.video_path).read_bytes() for item in items]
    assert len(videos["repvideo-off"]) == 2
    assert videos["repvideo-off"] == videos["cogvideox-2b"]


@pytest.mark.parametrize(("baseline", "method"), [("cogvideox-2b", "repvideo-2b")])
def test_the_registered_arms_share_every_setting_but_the_method(baseline: str, method: str) -> None:
    """Sampler, dtype, memory and speed options are the same card fields for both arms."""
    a, b = registry.load_card(baseline), registry.load_card(method)
    for name in ("family", "hub_id", "dtype", "sampler", "memory", "speed"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.repvideo is None and b.repvideo is not None
