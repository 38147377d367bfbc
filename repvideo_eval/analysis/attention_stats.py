"""Frame-level reductions of one attention layer, computed in chunks of query rows.

The paper's Figs. 3 and 4 show where each frame's query tokens put their attention. A full
attention matrix of CogVideoX-2B is heads x L x L = 30 x 17,776^2 floats (38 GB in float32) per
block, so it is never formed: the softmax is evaluated for ``chunk`` query rows at a time
(``heads * chunk * L`` floats), and each chunk is immediately summed into

- ``frame_mass[i, j]``: the attention mass that frame ``i``'s query tokens give to frame ``j``'s
  key tokens, averaged over heads and over frame ``i``'s queries;
- ``text_mass[i]``: the same for all text key tokens (so ``frame_mass[i].sum() + text_mass[i] == 1``);
- ``query_map``: for one chosen query frame, the attention over every key position (text first,
  then the video tokens frame-major), averaged over heads and over that frame's queries.

Cost per block: the same ``heads * L^2 * head_dim`` multiply-adds as the attention itself (it is
recomputed), memory ``heads * chunk * L`` floats per chunk, at most about three chunks alive at
once (logits, probabilities, the rows of the query frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from repvideo_eval.analysis.layout import TokenLayout

#: Default number of float32 probabilities one chunk may hold (256 MiB).
DEFAULT_CHUNK_ELEMENTS = 1 << 26


@dataclass(frozen=True)
class FrameAttention:
    """Attention of video queries reduced to frames. Shapes: (F, F), (F,), (L,) or None."""

    frame_mass: torch.Tensor
    text_mass: torch.Tensor
    query_map: torch.Tensor | None


def rows_per_chunk(
    heads: int, sequence_len: int, chunk_elements: int = DEFAULT_CHUNK_ELEMENTS
) -> int:
    """How many query rows fit in one chunk of ``chunk_elements`` probabilities (at least 1)."""
    return max(1, int(chunk_elements) // max(1, heads * sequence_len))


def frame_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    layout: TokenLayout,
    query_frame: int | None = None,
    scale: float | None = None,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
    key_valid: torch.Tensor | None = None,
) -> FrameAttention:
    """Reduce ``softmax(query @ key^T * scale)`` to frame masses without storing it.

    ``query`` and ``key`` are (heads, L, head_dim) for one batch element, after the QK norms and
    rotary embedding, with the text tokens first. ``scale`` defaults to ``head_dim ** -0.5``
    (what ``scaled_dot_product_attention`` uses). Only video query rows are evaluated.
    ``key_valid`` (L,) bool marks the keys the model attends to (a padding mask); masked keys
    get no attention, as in the model.
    """
    heads, length, head_dim = query.shape
    if key.shape != query.shape or length != layout.sequence_len:
        raise ValueError(
            f"query {tuple(query.shape)} / key {tuple(key.shape)} do not match a sequence of {layout.sequence_len} tokens"
        )
    if query_frame is not None and not 0 <= query_frame < layout.frames:
        raise ValueError(f"query_frame {query_frame} outside 0..{layout.frames - 1}")
    scale = head_dim**-0.5 if scale is None else float(scale)
    q = query.float()
    k_t = key.float().transpose(-1, -2)
    text, frames, per_frame = layout.text_len, layout.frames, layout.tokens_per_frame

    # Column 0 collects the text mass, columns 1..F the frames.
    mass = torch.zeros(frames, frames + 1, dtype=torch.float32, device=query.device)
    query_map = (
        torch.zeros(length, dtype=torch.float32, device=query.device)
        if query_frame is not None
        else None
    )
    step = rows_per_chunk(heads, length, chunk_elements)
    for start in range(text, length, step):
        stop = min(length, start + step)
        logits = torch.matmul(q[:, start:stop], k_t).mul_(scale)  # (H, c, L), scaled in place
        if key_valid is not None:
            logits.masked_fill_(~key_valid, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        del logits
        grouped = torch.cat(
            [
                probs[..., :text].sum(-1, keepdim=True),
                probs[..., text:].reshape(heads, stop - start, frames, per_frame).sum(-1),
            ],
            dim=-1,
        ).sum(0)  # (c, F + 1), summed over heads
        row_frames = torch.div(
            torch.arange(start, stop, device=query.device) - text, per_frame, rounding_mode="floor"
        )
        mass.index_add_(0, row_frames, grouped)
        if query_map is not None and query_frame is not None:
            chosen = row_frames.eq(query_frame)
            if bool(chosen.any()):
                query_map += probs[:, chosen].sum(dim=(0, 1))
        del probs, grouped
    denominator = float(heads * per_frame)
    mass /= denominator
    if query_map is not None:
        query_map /= denominator
    return FrameAttention(frame_mass=mass[:, 1:], text_mass=mass[:, 0], query_map=query_map)
