"""Scoring work follows VBench's standard mode: tagged prompts only get their own dimensions."""

from __future__ import annotations

from pathlib import Path

from repvideo_eval import registry
from repvideo_eval.generation.items import generation_items
from repvideo_eval.stages import dimensions_by_prompt, scoring_complete, scoring_items


def test_vbench_prompts_are_scored_only_on_their_tagged_dimensions() -> None:
    suite = registry.load_suite("vbench")
    requested = ("subject_consistency", "temporal_flickering", "background_consistency")
    chosen = dimensions_by_prompt(suite, requested)
    counts = {d: sum(d in dims for dims in chosen.values()) for d in requested}
    assert counts == {"subject_consistency": 72, "temporal_flickering": 75, "background_consistency": 86}
    assert chosen["In a still frame, a stop sign"] == ("temporal_flickering",)


def test_untagged_prompts_get_every_requested_dimension(tmp_path: Path) -> None:
    suite = registry.load_suite("smoke")
    requested = ("temporal_flickering", "background_consistency")
    chosen = dimensions_by_prompt(suite, requested)
    assert set(chosen.values()) == {requested}
    card = registry.load_card("cogvideox-tiny")
    generated = generation_items(card, suite, tmp_path)
    items = scoring_items(generated, {}, chosen, tmp_path, "tiny-random")
    assert len(items) == len(generated)
    assert all(len(item.record_paths) == 2 and not scoring_complete(item) for item in items)
    for path in items[0].record_paths:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("{}")
    assert scoring_complete(items[0]) and not scoring_complete(items[1])
