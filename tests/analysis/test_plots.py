"""Figures: the plotted similarity table, one panel per step, both models, PNG and SVG."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from repvideo_eval.analysis import plots
from repvideo_eval.analysis.layout import TokenLayout
from repvideo_eval.analysis.records import rows_to_frame


def _similarity_rows():
    rows = []
    for model, offset in (("base", 0.0), ("rep", 0.1)):
        for prompt in ("p1", "p2"):
            for step in (5, 20):
                for block in range(3):
                    for f, pair_value in enumerate((0.2, 0.4)):
                        value = pair_value + offset + (0.2 if prompt == "p2" else 0.0) + block / 10
                        rows.append(
                            dict(
                                model=model,
                                prompt=prompt,
                                seed=0,
                                step=step,
                                block=block,
                                tensor="block_output",
                                statistic="adjacent_cosine_token",
                                frame_i=f,
                                frame_j=f + 1,
                                value=value,
                            )
                        )
    return rows_to_frame(rows)


def test_layer_similarity_table_averages_pairs_and_prompts() -> None:
    table = plots.layer_similarity_table(
        _similarity_rows(), "adjacent_cosine_token", "block_output"
    )
    base = table[(table["model"] == "base") & (table["step"] == 5)]
    # mean of pairs (0.2, 0.4) and prompts (+0, +0.2) = 0.4, plus block / 10; layers count from 1
    assert base["layer"].tolist() == [1, 2, 3]
    assert [round(v, 6) for v in base["value"]] == [0.4, 0.5, 0.6]
    rep = table[(table["model"] == "rep") & (table["step"] == 20)]
    assert [round(v, 6) for v in rep["value"]] == [0.5, 0.6, 0.7]


def test_similarity_figure_has_a_panel_per_step_and_both_models(tmp_path: Path) -> None:
    written = plots.similarity_by_layer(
        _similarity_rows(),
        "adjacent_cosine_token",
        ("block_output", "block_input"),
        tmp_path / "sim",
        "title",
    )
    assert [p.name for p in written] == ["sim.png", "sim.svg"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = written[1].read_text(encoding="utf-8")
    for text in ("Step 5", "Step 20", "base", "rep", "Layer", "Similarity"):
        assert text in svg
    assert not any(p.name.startswith(".partial") for p in tmp_path.iterdir())
    assert (
        plots.similarity_by_layer(
            _similarity_rows(), "adjacent_cosine_pooled", ("block_output",), tmp_path / "none", "t"
        )
        == []
    )


def test_pick_blocks_spreads_evenly() -> None:
    assert plots.pick_blocks(list(range(30)), 6) == [0, 6, 12, 17, 23, 29]
    assert plots.pick_blocks([3, 1, 2]) == [1, 2, 3]


def test_attention_map_figure(tmp_path: Path) -> None:
    layout = TokenLayout(text_len=2, frames=3, grid_h=2, grid_w=2)
    maps = {block: np.full(layout.sequence_len, 1 / layout.sequence_len) for block in range(30)}
    written = plots.attention_maps(maps, layout, 1, "the title", tmp_path / "map")
    svg = written[1].read_text(encoding="utf-8")
    assert "frame 1 (query)" in svg and "the title" in svg
    # at most six layers are drawn, spread over the blocks, labelled from 1
    assert {int(n) for n in re.findall(r"Layer (\d+)", svg)} == {1, 7, 13, 18, 24, 30}
    assert "text 0.14" in svg  # the text keys' share: 2 of 14 keys
    assert plots.attention_maps({}, layout, 1, "t", tmp_path / "none") == []
