"""Adjacent-frame cosine similarity: hand-checkable cases and a torch reference."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from repvideo_eval.analysis.similarity import adjacent_frame_similarity


def test_identical_frames_give_similarity_one() -> None:
    frame = torch.randn(6, 8, generator=torch.Generator().manual_seed(0))
    result = adjacent_frame_similarity(frame.expand(4, 6, 8))
    torch.testing.assert_close(result.token_matched, torch.ones(3))
    torch.testing.assert_close(result.pooled, torch.ones(3))


def test_scaled_and_negated_frames() -> None:
    frame = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    result = adjacent_frame_similarity(torch.stack([frame, 3.0 * frame, -frame]))
    torch.testing.assert_close(result.token_matched, torch.tensor([1.0, -1.0]))
    torch.testing.assert_close(result.pooled, torch.tensor([1.0, -1.0]))


def test_token_matched_and_pooled_differ_when_tokens_swap_places() -> None:
    # Frame 1 holds frame 0's two tokens in swapped positions: each matched pair is orthogonal
    # (token-matched 0) while the mean vectors are equal (pooled 1).
    e1, e2 = torch.eye(2)
    frames = torch.stack([torch.stack([e1, e2]), torch.stack([e2, e1])])
    result = adjacent_frame_similarity(frames)
    torch.testing.assert_close(result.token_matched, torch.tensor([0.0]))
    torch.testing.assert_close(result.pooled, torch.tensor([1.0]))


def test_matches_torch_cosine_similarity_on_random_features() -> None:
    frames = torch.randn(5, 7, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    result = adjacent_frame_similarity(frames)
    expected_token = F.cosine_similarity(frames[:-1], frames[1:], dim=-1).mean(-1).float()
    pooled = frames.mean(1)
    expected_pooled = F.cosine_similarity(pooled[:-1], pooled[1:], dim=-1).float()
    torch.testing.assert_close(result.token_matched, expected_token)
    torch.testing.assert_close(result.pooled, expected_pooled)


def test_half_precision_input_is_reduced_in_float32() -> None:
    frames = torch.randn(3, 4, 8, generator=torch.Generator().manual_seed(3)).half()
    result = adjacent_frame_similarity(frames)
    assert result.token_matched.dtype == torch.float32
    expected = F.cosine_similarity(frames[:-1].float(), frames[1:].float(), dim=-1).mean(-1)
    torch.testing.assert_close(result.token_matched, expected)


def test_zero_features_give_zero_not_nan_and_one_frame_gives_nothing() -> None:
    result = adjacent_frame_similarity(torch.zeros(2, 3, 4))
    torch.testing.assert_close(result.token_matched, torch.zeros(1))
    torch.testing.assert_close(result.pooled, torch.zeros(1))
    assert adjacent_frame_similarity(torch.ones(1, 3, 4)).token_matched.numel() == 0


def test_rejects_unshaped_input() -> None:
    with pytest.raises(ValueError, match="frames, tokens, channels"):
        adjacent_frame_similarity(torch.ones(3, 4))
