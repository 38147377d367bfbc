"""Scoring work follows VBench's standard mode: tagged prompts only get their own dimensions."""

from __future__ import annotations

from pathlib import Path

from repvideo_eval import registry
from repvideo_eval.generation.items import generation_items
from repvideo_eval.planning import dimensions_by_prompt, scoring_items
from repvideo_eval.run_layout import RunLayout
from repvideo_eval.stages import scoring_complete


def test_vbench_prompts_are_scored_only_on_their_tagged_dimensions() -> None:
    suite = registry.load_suite("vbench")
    requested = ("subject_consistency", "temporal_flickering", "background_consistency")
    chosen = dimensions_by_prompt(suite, requested)
    counts = {d: sum(d in dims for dims in chosen.values()) for d in requested}
    assert counts == {
        "subject_consistency": 72,
        "temporal_flickering": 75,
        "background_consistency": 86,
    }
    assert chosen["In a still frame, a stop sign"] == ("temporal_flickering",)


def test_untagged_prompts_get_every_requested_dimension(tmp_path: Path) -> None:
    suite = registry.load_suite("smoke")
    requested = ("temporal_flickering", "background_consistency")
    chosen = dimensions_by_prompt(suite, requested)
    assert set(chosen.values()) == {requested}
    card = registry.load_card("cogvideox-tiny")
    generated = generation_items(card, suite, tmp_path)
    items = scoring_items(generated, {}, chosen, RunLayout(tmp_path), "tiny-random")
    assert len(items) == len(generated)
    assert all(len(item.record_paths) == 2 and not scoring_complete(item) for item in items)
    for path in items[0].record_paths:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("{}")
    assert scoring_complete(items[0]) and not scoring_complete(items[1])


def _flicker_suite(tmp_path: Path):
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(
        "name: f\ndimensions: [temporal_flickering, background_consistency]\nprompts:\n"
        "  - {prompt: still, dimensions: [temporal_flickering], samples: 12}\n"
        "  - {prompt: moving, dimensions: [background_consistency]}\n"
    )
    return registry.load_suite(str(suite_file))


def test_flicker_protocol_scores_only_the_videos_the_static_filter_kept(tmp_path: Path) -> None:
    import json

    from repvideo_eval.planning import (
        dimensions_for_video,
        filter_items,
        flicker_prompts,
        kept_by_video,
    )

    suite = _flicker_suite(tmp_path)
    requested = ("temporal_flickering", "background_consistency")
    assert flicker_prompts(suite, requested) == {"still"}
    assert flicker_prompts(suite, ("background_consistency",)) == set()
    card = registry.load_card("cogvideox-tiny")
    generated = generation_items(card, suite, tmp_path)
    assert len(generated) == 13
    (item,) = filter_items(generated, {"still"}, RunLayout(tmp_path))
    assert len(item.video_paths) == 12 and item.prompt == "still"
    kept = [p for p in item.video_paths if p.endswith(("still-1.mp4", "still-10.mp4"))]
    Path(item.selection_path).parent.mkdir(parents=True)
    Path(item.selection_path).write_text(json.dumps({"kept": kept, "decisions": []}))
    selection = kept_by_video([item], generated, None)
    dims_by_prompt = dimensions_by_prompt(suite, requested)
    chosen = {
        Path(g.video_path).name: dimensions_for_video(g, dims_by_prompt, selection)
        for g in generated
    }
    assert chosen["still-1.mp4"] == chosen["still-10.mp4"] == ("temporal_flickering",)
    assert chosen["still-0.mp4"] == () and chosen["still-11.mp4"] == ()
    assert chosen["moving-0.mp4"] == ("background_consistency",)
    items = scoring_items(
        generated, {}, dims_by_prompt, RunLayout(tmp_path), "tiny-random", flicker_kept=selection
    )
    assert sorted(Path(i.video_path).name for i in items) == [
        "moving-0.mp4",
        "still-1.mp4",
        "still-10.mp4",
    ]


def test_long_mode_passes_each_video_its_kept_clips(tmp_path: Path) -> None:
    import json

    from repvideo_eval.planning import filter_items, kept_by_video

    suite = _flicker_suite(tmp_path)
    generated = generation_items(registry.load_card("cogvideox-tiny"), suite, tmp_path)
    (item,) = filter_items(generated, {"still"}, RunLayout(tmp_path))
    clips = [
        str(tmp_path / "clips" / "h" / "split_clip" / "still-2" / f"still-2_{k}.mp4")
        for k in (0, 3)
    ]
    Path(item.selection_path).parent.mkdir(parents=True)
    Path(item.selection_path).write_text(json.dumps({"kept": clips, "decisions": []}))
    selection = kept_by_video([item], generated, tmp_path / "clips")
    items = scoring_items(
        generated,
        {},
        dimensions_by_prompt(suite, ("temporal_flickering",)),
        RunLayout(tmp_path),
        "tiny-random",
        flicker_kept=selection,
        long_mode=True,
    )
    assert [(Path(i.video_path).name, i.flicker_clips) for i in items] == [
        ("still-2.mp4", tuple(sorted(clips)))
    ]
