"""Adjacent-frame cosine similarity of token features (the paper's Figs. 5 and 12).

The paper plots "the average similarity between adjacent frame features" without saying how a
frame's features are compared. Two readings are computed:

- token-matched: the cosine between token ``n`` of frame ``f`` and token ``n`` of frame ``f+1``
  (same spatial position), averaged over ``n``; sensitive to motion and to per-position change.
- pooled: the cosine between the two frames' mean token vectors; only sees frame-level content.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

_EPS = 1e-8


@dataclass(frozen=True)
class AdjacentSimilarity:
    """Per adjacent pair ``(f, f+1)``: token-matched and pooled cosine, each of shape (frames - 1,)."""

    token_matched: torch.Tensor
    pooled: torch.Tensor


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine along the last axis in float32; zero vectors give 0 rather than NaN."""
    a = a.float()
    b = b.float()
    dot = (a * b).sum(-1)
    norms = a.norm(dim=-1) * b.norm(dim=-1)
    return dot / norms.clamp_min(_EPS)


def adjacent_frame_similarity(frames: torch.Tensor) -> AdjacentSimilarity:
    """Cosine similarities between consecutive frames of ``frames`` shaped (F, N, D).

    ``F`` frames of ``N`` tokens of ``D`` channels each. Fewer than two frames give empty results.
    """
    if frames.dim() != 3:
        raise ValueError(f"expected (frames, tokens, channels), got shape {tuple(frames.shape)}")
    if frames.shape[0] < 2:
        empty = frames.new_zeros(0, dtype=torch.float32)
        return AdjacentSimilarity(empty, empty)
    token_matched = _cosine(frames[:-1], frames[1:]).mean(dim=-1)
    pooled_frames = frames.float().mean(dim=1)
    pooled = _cosine(pooled_frames[:-1], pooled_frames[1:])
    return AdjacentSimilarity(token_matched=token_matched, pooled=pooled)
