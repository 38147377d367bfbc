"""`study report` warns when a model's weights are random: a run made from the shipped tiny cards
(`source: tiny`, `weights: tiny:cogvideox`) and from the full-size random cards (`source: random`)
is flagged; a run made from the real cards is not."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from repvideo_eval.registry import load_card
from repvideo_eval.study.report import write_study_report
from repvideo_eval.vocabulary import is_random_card as card_has_random_weights
from tests.reporting.conftest import AWKWARD_PROMPTS, build_run
from tests.study.conftest import create, rows


def study_of(tmp_path: Path, cards: tuple[str, str]) -> dict:
    """A run of `cards` (their run.json entries exactly as `run` writes them), a study of it with
    every task answered, and its study.json."""
    run = build_run(
        tmp_path / "run",
        [load_card(name).to_dict() for name in cards],
        prompts=AWKWARD_PROMPTS[:2],
        samples=1,
        videos=True,
    )
    study = tmp_path / "study"
    assert create([run], study, "--raters", "1", models=",".join(cards)) == 0
    connection = sqlite3.connect(study / "study.sqlite3")
    connection.executemany(
        "INSERT INTO votes VALUES (?, 0, 'left', 1.0)",
        rows(study, "SELECT task_id FROM tasks"),
    )
    connection.commit()
    connection.close()
    write_study_report(study, plots=False, n_resamples=100)
    return json.loads((study / "study.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("cards", "flagged"),
    [
        (("cogvideox-tiny", "repvideo-tiny"), True),
        (("cogvideox-2b-random", "repvideo-2b-random"), True),
        (("cogvideox-2b", "repvideo-2b"), False),
    ],
)
def test_report_warns_about_random_weight_cards(tmp_path, cards, flagged):
    doc = study_of(tmp_path, cards)
    markdown = (tmp_path / "study" / "study.md").read_text(encoding="utf-8")
    if flagged:
        assert len(doc["warnings"]) == 1 and doc["warnings"][0].startswith("RANDOM WEIGHTS")
        assert f"{cards[0]}, {cards[1]} generated their videos with random weights" in markdown
    else:
        assert doc["warnings"] == [] and "RANDOM WEIGHTS" not in markdown


@pytest.mark.parametrize(
    ("card", "random"),
    [
        ({"source": "tiny", "weights": "tiny:cogvideox"}, True),
        ({"source": "random", "weights": "THUDM/CogVideoX-2b"}, True),
        ({"weights": "tiny-random:seed=0"}, True),  # run.json of older runs
        ({"weights": "tiny:cogvideox"}, True),
        ({"source": "hub", "weights": "THUDM/CogVideoX-2b"}, False),
        ({}, False),
    ],
)
def test_random_weights_predicate(card, random):
    assert card_has_random_weights(card) is random
