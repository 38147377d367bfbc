"""Captures become tidy rows with the right indices, and survive a CSV round trip."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from repvideo_eval.analysis.attention_stats import FrameAttention
from repvideo_eval.analysis.layout import TokenLayout
from repvideo_eval.analysis.probes import AttentionCapture, Captures, GateInfo, SimilarityCapture
from repvideo_eval.analysis.records import (
    COLUMNS,
    MapAccumulator,
    StreamingCsv,
    capture_rows,
    gate_rows,
    map_frame,
    read_statistics,
    rows_to_frame,
    write_csv_atomic,
)
from repvideo_eval.analysis.similarity import AdjacentSimilarity


def _captures() -> Captures:
    layout = TokenLayout(text_len=2, frames=2, grid_h=1, grid_w=2)
    attention = FrameAttention(
        frame_mass=torch.tensor([[0.5, 0.2], [0.1, 0.6]]),
        text_mass=torch.tensor([0.3, 0.3]),
        query_map=torch.tensor([0.05, 0.15, 0.1, 0.2, 0.3, 0.2]),
    )
    return Captures(
        layout=layout,
        timesteps={3: 500.0},
        similarities=[
            SimilarityCapture(
                3, 7, "block_output", AdjacentSimilarity(torch.tensor([0.25]), torch.tensor([0.75]))
            )
        ],
        attentions=[AttentionCapture(3, 7, attention)],
        calls=4,
    )


def test_capture_rows_carry_indices_and_values() -> None:
    frame = rows_to_frame(capture_rows(_captures(), "m", "a cat", 9))
    assert list(frame.columns) == list(COLUMNS)
    token = frame[frame["statistic"] == "adjacent_cosine_token"].iloc[0]
    assert (
        token["step"],
        token["timestep"],
        token["block"],
        token["frame_i"],
        token["frame_j"],
        token["value"],
    ) == (3, 500.0, 7, 0, 1, 0.25)
    pooled = frame[frame["statistic"] == "adjacent_cosine_pooled"]["value"].tolist()
    assert pooled == [0.75]
    mass = frame[frame["statistic"] == "attention_frame_mass"].set_index(["frame_i", "frame_j"])[
        "value"
    ]
    assert mass.round(6).to_dict() == {(0, 0): 0.5, (0, 1): 0.2, (1, 0): 0.1, (1, 1): 0.6}
    text = frame[frame["statistic"] == "attention_text_mass"]
    assert text["frame_j"].isna().all() and text["value"].round(6).tolist() == [0.3, 0.3]


def test_map_frame_places_video_keys_on_their_frame_grid() -> None:
    frame = map_frame(_captures(), "m", "a cat", 9, query_frame=1)
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 6
    text = frame[frame["statistic"] == "attention_map_text"]
    assert text["x"].tolist() == [0, 1] and text["frame_j"].isna().all()
    video = frame[frame["statistic"] == "attention_map"]
    # video keys 0..3 -> (frame, y, x) = (0,0,0), (0,0,1), (1,0,0), (1,0,1)
    got = list(zip(video["frame_j"], video["y"], video["x"], video["value"].round(6)))
    assert got == [(0, 0, 0, 0.1), (0, 0, 1, 0.2), (1, 0, 0, 0.3), (1, 0, 1, 0.2)]
    assert (
        (frame["frame_i"] == 1).all()
        and (frame["step"] == 3).all()
        and (frame["timestep"] == 500.0).all()
    )
    assert abs(frame["value"].sum() - 1.0) < 1e-6


def test_streaming_csv_commits_atomically_and_discards(tmp_path: Path) -> None:
    pieces = [map_frame(_captures(), "m", p, 9, query_frame=1) for p in ("a", "b")]
    target = tmp_path / "maps.csv"
    stream = StreamingCsv(target)
    for piece in pieces:
        stream.append(piece)
        assert not target.exists()  # only the temp file exists until commit
    stream.commit(rows_to_frame([]))
    back = read_statistics(target)
    assert len(back) == 12 and back["prompt"].tolist() == ["a"] * 6 + ["b"] * 6
    assert back["frame_j"].isna().sum() == 4 and back["y"].isna().sum() == 4
    broken = StreamingCsv(tmp_path / "other.csv")
    broken.append(pieces[0])
    broken.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps.csv"]


def test_map_accumulator_averages_over_prompts() -> None:
    first, second = _captures(), _captures()
    second.attentions[0] = AttentionCapture(
        3, 7, FrameAttention(torch.zeros(2, 2), torch.zeros(2), torch.ones(6))
    )
    acc = MapAccumulator()
    acc.add(first, "m", 1)
    acc.add(second, "m", 1)
    assert acc.steps("m") == [3] and acc.query_frames == {"m": 1}
    means = acc.means("m", 3)
    assert list(means) == [7]
    expected = (first.attentions[0].attention.query_map.double().numpy() + 1.0) / 2
    assert abs(means[7] - expected).max() < 1e-12


def test_gate_rows() -> None:
    frame = rows_to_frame(gate_rows([GateInfo(0, 0.5, False), GateInfo(1, 0.25, True)], "rep"))
    gates = frame[frame["statistic"] == "gate"]
    assert gates["value"].tolist() == [0.5, 0.25] and gates["step"].isna().all()
    assert frame[frame["statistic"] == "mix_active"]["value"].tolist() == [0.0, 1.0]


def test_csv_round_trip_and_no_partial_files(tmp_path: Path) -> None:
    rows = list(capture_rows(_captures(), "m", 'NA, "quoted" prompt', 9)) + list(
        gate_rows([GateInfo(0, 0.5, True)], "m")
    )
    frame = rows_to_frame(rows)
    path = write_csv_atomic(frame, tmp_path / "out" / "statistics.csv")
    back = read_statistics(path)
    pd.testing.assert_frame_equal(
        back[["step", "block", "frame_i", "frame_j", "y", "x"]],
        frame[["step", "block", "frame_i", "frame_j", "y", "x"]],
    )
    assert back["prompt"].iloc[0] == 'NA, "quoted" prompt'
    assert (back["value"] - frame["value"]).abs().max() < 1e-12
    assert [p.name for p in path.parent.iterdir()] == ["statistics.csv"]
