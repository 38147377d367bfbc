"""Every family's tiny twin, and a user-written card through the generic form, run the whole way
(generate -> score -> leaderboard) in ONE shared offline run: a Ray start and a scorer load per
run, not per family, keeps the fast suite fast. CogVideoX's twins have their own run in
tests/test_end_to_end.py, with the same tiny random scorer weights."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from repvideo_eval import registry

REPO = Path(__file__).resolve().parents[2]
TWINS = (
    "cogvideox1.5-tiny",
    "wan-tiny",
    "wan2.2-tiny",
    "wan2.2-a14b-tiny",
    "hunyuanvideo-tiny",
    "hunyuanvideo1.5-tiny",
    "ltx-tiny",
    "ltx2-tiny",
    "mochi-tiny",
)
#: One pixel-formula dimension: the scorers are the same for every family (tests/test_end_to_end.py
#: covers them); what differs per family is generation.
DIMENSIONS = ("temporal_flickering",)
#: A model the project does not ship: LTX's pipeline with a smaller transformer and other frames.
USER_CARD = {
    "name": "my-ltx-variant",
    "description": "a user's own LTX-Video variant, written as YAML only",
    "family": "ltx",
    "pipeline": "LTXPipeline",
    "source": "tiny",
    "weights": "tiny:ltx",
    "tiny_seed": 7,
    "dtype": "float32",
    "sampler": {
        "scheduler": "flow-euler",
        "shift": 2.0,
        "num_inference_steps": 2,
        "guidance_scale": 2.5,
        "use_dynamic_cfg": False,
        "negative_prompt": "blurry",
        "num_frames": 17,
        "height": 64,
        "width": 96,
        "fps": 8,
        "max_sequence_length": 12,
    },
    "components": {"transformer": {"num_layers": 2, "norm_eps": 1.0e-5}},
}


def _run(root: Path, models: tuple[str, ...]) -> tuple[Path, subprocess.CompletedProcess]:
    """One offline CLI run of `models` (names or card paths) on the smoke suite."""
    out = root / "run"
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_eval.py"),
            "--model",
            ",".join(models),
            "--suite",
            "smoke",
            "--limit-prompts",
            "1",
            "--dimensions",
            ",".join(DIMENSIONS),
            "--output-dir",
            str(out),
            "--no-progress",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    return out, result


@pytest.fixture(scope="module")
def family_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("families")
    card_path = root / "my-ltx-variant.yaml"
    card_path.write_text(yaml.safe_dump(USER_CARD), encoding="utf-8")
    return _run(root, (*TWINS, str(card_path)))


def _cards() -> dict[str, object]:
    cards = {name: registry.load_card(name) for name in TWINS}
    cards[USER_CARD["name"]] = registry.card_from_dict(USER_CARD)
    return cards


def test_every_family_and_a_user_card_generate_score_and_rank(family_run) -> None:
    out, result = family_run
    _check_run(out, result, _cards())


def _check_run(out: Path, result: subprocess.CompletedProcess, cards: dict) -> None:
    """One video per model with the card's shape and sampler trace, scores, leaderboard rows."""
    assert result.returncode == 0, result.stderr[-3000:]
    # One video per model, with exactly the card's frames and size (the VAE rules hold).
    for name, card in cards.items():
        sidecars = list((out / "sidecars" / card.card_hash).glob("*.json"))
        assert len(sidecars) == 1, name
        data = json.loads(sidecars[0].read_text())
        s = card.sampler
        assert (data["frames"], data["height"], data["width"]) == (
            s.num_frames,
            s.height,
            s.width,
        ), name
        assert len(data["sampler_trace"]["guidance_applied"]) == s.num_inference_steps
        expected_uncond = "none" if card.family == "hunyuanvideo" else "negative-prompt"
        if card.family == "cogvideox1.5":
            expected_uncond = "zero-embeddings"
        assert data["sampler_trace"]["uncond"] == expected_uncond, name
        # LTX-2's soundtrack is dropped, and the record says so; silent families record nothing
        assert ("audio" in data["sampler_trace"]) == (card.family == "ltx2"), name
        if card.family == "ltx2":
            assert data["sampler_trace"]["audio"]["discarded"] is True
    # Scores for every model and dimension, then a leaderboard row per model.
    with (out / "per_video.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert {(r["model"], r["dimension"]) for r in rows} == {
        (name, d) for name in cards for d in DIMENSIONS
    }
    assert all(r["score"] and not r["error"] for r in rows)
    for name in cards:
        assert f"| {name} |" in result.stdout, name
    board = json.loads((out / "leaderboard.json").read_text())
    assert set(json.dumps(board).split('"')) >= set(cards)


def test_the_user_card_s_overrides_reached_the_model(family_run) -> None:
    """The generic form is not decoration: the variant's transformer has its 2 blocks."""
    from repvideo_eval.generation.pipelines import load_pipeline

    pipe = load_pipeline(registry.card_from_dict(USER_CARD), "cpu")
    assert len(pipe.transformer.transformer_blocks) == 2
    assert pipe.transformer.config.norm_eps == 1.0e-5
    assert pipe.scheduler.config.shift == 2.0
