"""Chunked frame-attention reductions: constructed patterns, exact uniform case, full-matrix reference."""

from __future__ import annotations

import pytest
import torch

from repvideo_eval.analysis import attention_stats
from repvideo_eval.analysis.attention_stats import frame_attention, rows_per_chunk
from repvideo_eval.analysis.layout import TokenLayout

LAYOUT = TokenLayout(text_len=3, frames=4, grid_h=2, grid_w=3)  # 6 tokens per frame, L = 27


def _frame_ids(layout: TokenLayout) -> torch.Tensor:
    """-1 for text tokens, else the frame of each token (frame-major)."""
    text = torch.full((layout.text_len,), -1)
    video = torch.arange(layout.frames).repeat_interleave(layout.tokens_per_frame)
    return torch.cat([text, video])


def _reference(query: torch.Tensor, key: torch.Tensor, layout: TokenLayout, query_frame: int):
    """Full attention matrix, then the same reductions by explicit loops (tiny sizes only)."""
    probs = torch.softmax(
        query.double() @ key.double().transpose(-1, -2) / query.shape[-1] ** 0.5, dim=-1
    )
    ids = _frame_ids(layout)
    mass = torch.zeros(layout.frames, layout.frames, dtype=torch.float64)
    text = torch.zeros(layout.frames, dtype=torch.float64)
    for i in range(layout.frames):
        rows = probs[:, ids == i]  # (H, N, L)
        text[i] = rows[..., ids == -1].sum(-1).mean()
        for j in range(layout.frames):
            mass[i, j] = rows[..., ids == j].sum(-1).mean()
    query_map = probs[:, ids == query_frame].mean(dim=(0, 1))
    return mass, text, query_map


def test_block_diagonal_pattern_gives_identity_frame_matrix() -> None:
    # Queries and keys of frame f point along axis f (text keys along an unused axis), scaled so
    # that same-frame logits dominate: every frame attends to itself only.
    heads, dim = 2, 8
    ids = _frame_ids(LAYOUT)
    axis = torch.where(ids >= 0, ids, torch.full_like(ids, dim - 1))
    vectors = 40.0 * torch.nn.functional.one_hot(axis, dim).float()
    qk = vectors.expand(heads, -1, -1).clone()
    result = frame_attention(qk, qk, LAYOUT, query_frame=2)
    torch.testing.assert_close(result.frame_mass, torch.eye(LAYOUT.frames), atol=1e-5, rtol=0)
    torch.testing.assert_close(result.text_mass, torch.zeros(LAYOUT.frames), atol=1e-5, rtol=0)
    # The kept map: frame 2's queries spread their mass evenly over frame 2's six keys.
    expected_map = torch.zeros(LAYOUT.sequence_len)
    expected_map[ids == 2] = 1 / LAYOUT.tokens_per_frame
    torch.testing.assert_close(result.query_map, expected_map, atol=1e-5, rtol=0)


def test_zero_queries_give_uniform_attention_proportional_to_token_counts() -> None:
    query = torch.zeros(3, LAYOUT.sequence_len, 4)
    key = torch.randn(3, LAYOUT.sequence_len, 4, generator=torch.Generator().manual_seed(0))
    result = frame_attention(query, key, LAYOUT)
    length = LAYOUT.sequence_len
    torch.testing.assert_close(result.frame_mass, torch.full((4, 4), 6 / length))
    torch.testing.assert_close(result.text_mass, torch.full((4,), 3 / length))
    assert result.query_map is None


def test_rows_sum_to_one_including_text_mass() -> None:
    gen = torch.Generator().manual_seed(1)
    query, key = torch.randn(2, 3, LAYOUT.sequence_len, 8, generator=gen)
    result = frame_attention(query * 3, key * 3, LAYOUT)
    torch.testing.assert_close(
        result.frame_mass.sum(1) + result.text_mass, torch.ones(LAYOUT.frames)
    )


@pytest.mark.parametrize("chunk_elements", [1, 2 * 27 * 5, 2 * 27 * 7, 1 << 20])
def test_chunked_reduction_equals_full_matrix_reference(chunk_elements: int) -> None:
    # Chunks of 1, 5 and 7 rows straddle frame boundaries; 1 << 20 takes all rows at once.
    gen = torch.Generator().manual_seed(2)
    query, key = torch.randn(2, 2, LAYOUT.sequence_len, 8, generator=gen) * 2
    result = frame_attention(query, key, LAYOUT, query_frame=1, chunk_elements=chunk_elements)
    mass, text, query_map = _reference(query, key, LAYOUT, 1)
    torch.testing.assert_close(result.frame_mass.double(), mass, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(result.text_mass.double(), text, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(result.query_map.double(), query_map, atol=1e-6, rtol=1e-5)


def test_memory_is_bounded_by_the_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    # Record the size of every probability block that is materialised: never the full matrix.
    heads, length = 2, LAYOUT.sequence_len
    seen: list[int] = []
    real_softmax = torch.softmax

    def recording_softmax(tensor: torch.Tensor, dim: int) -> torch.Tensor:
        seen.append(tensor.numel())
        return real_softmax(tensor, dim=dim)

    monkeypatch.setattr(attention_stats.torch, "softmax", recording_softmax)
    query, key = torch.randn(2, heads, length, 8, generator=torch.Generator().manual_seed(3))
    budget = heads * length * 4  # four query rows per chunk
    frame_attention(query, key, LAYOUT, query_frame=0, chunk_elements=budget)
    assert seen and max(seen) <= budget
    assert sum(seen) == heads * LAYOUT.video_len * length  # every video query row exactly once


def test_rows_per_chunk() -> None:
    assert rows_per_chunk(heads=30, sequence_len=17776, chunk_elements=1 << 26) == (1 << 26) // (
        30 * 17776
    )
    assert rows_per_chunk(heads=30, sequence_len=17776, chunk_elements=10) == 1


def test_rejects_mismatched_shapes_and_bad_query_frame() -> None:
    query = torch.zeros(2, LAYOUT.sequence_len, 4)
    with pytest.raises(ValueError, match="do not match"):
        frame_attention(query, query[:, :-1], LAYOUT)
    with pytest.raises(ValueError, match="query_frame"):
        frame_attention(query, query, LAYOUT, query_frame=LAYOUT.frames)
