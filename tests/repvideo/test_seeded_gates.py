"""`gates: seeded`: the training-free RepVideo of every family with one gate per block drawn
around the official init from the card's gate_seed (the same on every machine), a different
draw for Wan 2.2 A14B's second expert, and the seed in the card hash."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from repvideo_eval import registry
from repvideo_eval.ablation_grid import load_grid
from repvideo_eval.cli.list_command import _method
from repvideo_eval.config import RepVideoSettings
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import disable_repvideo, pipeline_transformers
from repvideo_eval.repvideo.gates import expert_gate_seed, seeded_gates


def seeded(seed: int, window: int = 2) -> RepVideoSettings:
    return RepVideoSettings(cache_window=window, gates="seeded", gate_seed=seed)


def test_same_seed_same_gates_other_seed_other_gates_all_around_the_official_init() -> None:
    first = seeded_gates(30, 7)
    assert first.dtype == torch.float32 and first.shape == (30,)
    assert torch.equal(first, seeded_gates(30, 7))
    assert not torch.equal(first, seeded_gates(30, 8))
    many = torch.cat([seeded_gates(1000, seed) for seed in range(5)])
    assert float(many.min()) >= 0.35 and float(many.max()) < 0.65
    assert float(many.min()) < 0.36 and float(many.max()) > 0.64  # the whole interval is used
    assert len(set(first.tolist())) == 30  # one value per block, not a constant
    # The global RNG neither feeds nor is consumed by the draw.
    torch.manual_seed(0)
    expected_next = torch.rand(1)
    torch.manual_seed(0)
    seeded_gates(30, 7)
    assert torch.equal(torch.rand(1), expected_next)


def test_the_second_expert_gets_its_own_seed_fixed_by_the_card_seed() -> None:
    assert expert_gate_seed(7, "transformer") == 7
    second = expert_gate_seed(7, "transformer_2")
    assert second == expert_gate_seed(7, "transformer_2") and second != 7
    assert second != expert_gate_seed(8, "transformer_2")
    assert 0 <= second < 2**63
    assert not torch.equal(seeded_gates(40, 7), seeded_gates(40, second))


def test_the_gate_seed_is_in_the_card_hash_and_other_cards_keep_theirs() -> None:
    base = registry.load_card("wan-tiny")
    hashes = {
        base.with_repvideo(settings).card_hash
        for settings in (seeded(1), seeded(2), RepVideoSettings(cache_window=2, gates="off"))
    }
    assert len(hashes) == 3
    learned = registry.load_card("repvideo-tiny")
    assert "gate_seed" not in learned.generation_dict()["repvideo"]  # hash as before the field
    assert learned.generation_dict()["repvideo"] == {
        "cache_window": 6,
        "gates": "learned",
        "gate_value": None,
    }
    card = base.with_repvideo(seeded(3))
    assert registry.card_from_dict(card.to_dict()) == card  # run.json round trip
    assert _method(card) == "RepVideo window 2, gates seeded (seed 3)"


BAD_REPVIDEO = [
    ({"gates": "seeded"}, "gate_seed is missing: add gate_seed"),
    (
        {"gates": "fixed", "gate_value": 0.5, "gate_seed": 1},
        "remove gate_seed or set gates: seeded",
    ),
    ({"gates": "learned", "gate_seed": 1}, "gate_seed applies to gates 'seeded', not 'learned'"),
    ({"gates": "seeded", "gate_seed": 1, "gate_value": 0.5}, "remove gate_value"),
    ({"gates": "seeded", "gate_seed": -1}, "between 0 and 2\\*\\*63-1"),
    ({"gates": "seeded", "gate_seed": 2**63}, "between 0 and 2\\*\\*63-1"),
    ({"gates": "seeded", "gate_seed": True}, "gate_seed"),
    ({"gates": "seeded", "gate_seed": "7"}, "gate_seed"),
]


@pytest.mark.parametrize(("block", "message"), BAD_REPVIDEO)
def test_bad_seeded_combinations_are_one_line_user_errors(
    block: dict[str, Any], message: str
) -> None:
    data = registry.load_card("wan-tiny").to_dict()
    data["repvideo"] = {"cache_window": 2, **block}
    with pytest.raises(UserError, match=message) as error:
        registry.card_from_dict(data, "model card x.yaml")
    assert len(str(error.value).splitlines()) == 1


@pytest.mark.parametrize(
    "grid",
    ["gates: [seeded]\ncache_window: [2]\n", "variants:\n  - {cache_window: 2, gates: seeded}\n"],
)
def test_an_ablation_grid_refuses_seeded_gates(grid: str, tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(grid, encoding="utf-8")
    with pytest.raises(UserError, match="gates seeded is not a grid setting") as error:
        load_grid(path)
    assert len(str(error.value).splitlines()) == 1 and "gate_seed" in str(error.value)


def test_seeded_gates_on_both_a14b_experts_change_the_video() -> None:
    """The tiny Wan 2.2 A14B twin: each expert holds its own seeded draw, and the video differs
    from the same pipeline with RepVideo switched off."""
    from repvideo_eval.generation.pipelines import load_pipeline, sample_video

    card = registry.load_card("wan2.2-a14b-tiny").with_repvideo(seeded(11), name="a14b@seeded")
    pipe = load_pipeline(card, "cpu")
    high, low = pipeline_transformers(pipe)
    assert high is pipe.transformer and low is pipe.transformer_2
    for attribute, expert in (("transformer", high), ("transformer_2", low)):
        count = expert.repvideo_gates.numel()
        expected = seeded_gates(count, expert_gate_seed(11, attribute))
        assert torch.equal(expert.repvideo_gates.detach(), expected)
    assert not torch.equal(high.repvideo_gates, low.repvideo_gates)
    with_gates, _ = sample_video(pipe, card, "a red car", seed=3)
    for expert in (high, low):
        disable_repvideo(expert)
    off, _ = sample_video(pipe, card, "a red car", seed=3)
    assert with_gates.shape == off.shape and np.isfinite(with_gates).all()
    assert not np.array_equal(with_gates, off)


def test_seeded_settings_validate_like_a_card() -> None:
    with pytest.raises(ValueError, match="gate_seed is missing"):
        RepVideoSettings(gates="seeded")
    settings = seeded(5)
    assert dataclasses.replace(settings, gate_seed=6) != settings


def test_an_ablation_report_keeps_two_seeds_apart() -> None:
    """Runs of two seeded cards reported together are two rows and two curves, not one."""
    from repvideo_eval.reporting.ablation import variant_of

    base = registry.load_card("wan-tiny")
    first, second = (variant_of(base.with_repvideo(seeded(s)).to_dict()) for s in (1, 2))
    assert first.series == "seeded (seed 1)" and second.series == "seeded (seed 2)"
    assert (first.gates, first.gate_seed, first.gate_value) == ("seeded", 1, None)
    fixed = variant_of(
        base.with_repvideo(
            RepVideoSettings(cache_window=2, gates="fixed", gate_value=0.5)
        ).to_dict()
    )
    assert fixed.gate_seed is None and fixed.series == "fixed g=0.5"
