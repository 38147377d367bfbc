"""Input validation for the analysis: steps, prompts, query frame."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from repvideo_eval import registry
from repvideo_eval.analysis.options import (
    PAPER_STEPS,
    check_query_frame,
    default_steps,
    latent_frames,
    parse_steps,
    resolve_prompts,
)
from repvideo_eval.errors import UserError


@pytest.fixture(scope="module")
def tiny_cards():
    return [registry.load_card("cogvideox-tiny"), registry.load_card("repvideo-tiny")]


def test_default_steps_are_the_papers_for_fifty_and_rescaled_otherwise() -> None:
    assert default_steps(50) == PAPER_STEPS == (5, 20, 35, 50)
    assert default_steps(100) == (10, 40, 70, 100)
    assert default_steps(2) == (1, 2)


def test_parse_steps(tiny_cards) -> None:
    assert parse_steps("2, 1,2", tiny_cards) == (1, 2)
    assert parse_steps(None, tiny_cards) == (1, 2)
    real = registry.load_card("cogvideox-2b")
    assert parse_steps("5,20,35,50", [real]) == (5, 20, 35, 50)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3", "exceeds cogvideox-tiny's 2 sampler steps"),
        ("0", "below 1"),
        ("a", "not an integer"),
        (",", "empty"),
    ],
)
def test_bad_steps_are_user_errors(tiny_cards, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_steps(text, tiny_cards)


def test_steps_are_checked_against_every_card(tiny_cards) -> None:
    longer = dataclasses.replace(
        tiny_cards[0],
        name="long",
        sampler=dataclasses.replace(tiny_cards[0].sampler, num_inference_steps=10),
    )
    with pytest.raises(UserError, match="repvideo-tiny"):
        parse_steps("5", [longer, tiny_cards[1]])


def test_prompts_from_suite_file_or_literal(tmp_path: Path) -> None:
    smoke = resolve_prompts("smoke")
    assert smoke == tuple(e.text for e in registry.load_suite("smoke").prompts) and len(smoke) == 5
    assert resolve_prompts("smoke", limit=2) == smoke[:2]
    listing = tmp_path / "mine.txt"
    listing.write_text("a cat\n\n a dog \n", encoding="utf-8")
    assert resolve_prompts(str(listing)) == ("a cat", "a dog")
    assert resolve_prompts("  a fox jumping over a fence ") == ("a fox jumping over a fence",)


def test_every_listed_suite_name_is_read_as_that_suite_not_as_a_literal_prompt() -> None:
    for name in registry.list_suites():
        expected = tuple(entry.text for entry in registry.load_suite(name).prompts)
        assert resolve_prompts(name) == expected, name


def test_bad_prompts_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        resolve_prompts(str(tmp_path / "missing.txt"))
    with pytest.raises(UserError, match="empty"):
        resolve_prompts("   ")
    with pytest.raises(UserError, match="limit-prompts"):
        resolve_prompts("smoke", limit=0)


def test_query_frame(tiny_cards) -> None:
    frames = latent_frames(tiny_cards[0])
    assert frames == 3  # 9 RGB frames -> 3 latent frames
    assert latent_frames(registry.load_card("cogvideox-2b")) == 13
    assert check_query_frame(None, frames) == 1
    assert check_query_frame(2, frames) == 2
    with pytest.raises(UserError, match="query-frame 3"):
        check_query_frame(3, frames)
