"""Queries and keys of a block's self-attention, taken from the model's own attention call.

For families other than CogVideoX the probes do not recompute queries and keys (each family
normalises and rotates them its own way): while a probed processor runs, the attention function
its module calls (diffusers' ``dispatch_attention_fn``, or ``F.scaled_dot_product_attention``
for Mochi's processor, which attends one batch row at a time over its valid text tokens) is
swapped for a spy that records the query, key and mask it receives and calls the original. The
model's output is untouched; the spy is removed when the processor returns.

``to_text_first`` turns what was recorded for the conditional row into ``(query, key,
key_valid)`` of shape (heads, L, head_dim) with the text first, as ``attention_stats`` expects.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import torch

from repvideo_eval.analysis.layout import TokenLayout
from repvideo_eval.errors import UserError

#: layouts of the recorded tensors: (batch, seq, heads, dim) or (batch, heads, seq, dim)
BSHD = "bshd"
BHSD = "bhsd"


@dataclass
class AttentionCall:
    """One recorded attention call."""

    layout: str
    query: torch.Tensor
    key: torch.Tensor
    mask: torch.Tensor | None
    scale: float | None


class _SdpaSpy:
    """Stands in for ``torch.nn.functional`` in a processor's module: records SDPA calls."""

    def __init__(self, functional: Any, calls: list[AttentionCall]) -> None:
        self._functional = functional
        self._calls = calls

    def scaled_dot_product_attention(
        self, query: Any, key: Any, value: Any, *args: Any, **kwargs: Any
    ) -> Any:
        mask = kwargs.get("attn_mask", args[0] if args else None)
        self._calls.append(AttentionCall(BHSD, query, key, mask, kwargs.get("scale")))
        return self._functional.scaled_dot_product_attention(query, key, value, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._functional, name)


def run_recording(
    inner: Any, call_args: tuple[Any, ...], call_kwargs: dict[str, Any]
) -> tuple[Any, list[AttentionCall]]:
    """Call processor ``inner`` with the attention function of its module spied on."""
    module = sys.modules[type(inner).__module__]
    calls: list[AttentionCall] = []
    swapped: list[tuple[str, Any]] = []
    original_dispatch = getattr(module, "dispatch_attention_fn", None)
    if original_dispatch is not None:

        def dispatch_spy(query: Any, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
            mask = kwargs.get("attn_mask", args[0] if args else None)
            calls.append(AttentionCall(BSHD, query, key, mask, kwargs.get("scale")))
            return original_dispatch(query, key, value, *args, **kwargs)

        swapped.append(("dispatch_attention_fn", original_dispatch))
        setattr(module, "dispatch_attention_fn", dispatch_spy)
    functional = getattr(module, "F", None)
    if functional is torch.nn.functional:
        swapped.append(("F", functional))
        setattr(module, "F", _SdpaSpy(functional, calls))
    try:
        output = inner(*call_args, **call_kwargs)
    finally:
        for name, original in swapped:
            setattr(module, name, original)
    return output, calls


def _key_valid(
    mask: torch.Tensor | None, row: int, query_row: int, length: int
) -> torch.Tensor | None:
    """Which keys the conditional row's video query ``query_row`` may attend to, from an SDPA mask."""
    if mask is None:
        return None
    m = mask[row] if mask.shape[0] > row else mask[0]
    m = m.reshape(-1, m.shape[-1])  # (heads * query rows, or 1, keys)
    per_query = m[query_row if m.shape[0] == length else 0]
    if per_query.dtype == torch.bool:
        return per_query.clone()
    return torch.isfinite(per_query) & (
        per_query > -1.0
    )  # additive mask: 0 keeps, -inf / -1e4 drops


def to_text_first(
    calls: list[AttentionCall],
    row: int,
    order: str,
    layout: TokenLayout,
    text_mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, float | None]:
    """(query, key, key_valid, scale) of the conditional ``row``, text first; see module doc.

    ``text_mask`` is the processor's own ``attention_mask`` argument, needed for Mochi only: its
    attention sees ``[video | valid text]``, which is scattered back to the full text length
    (padding keys marked invalid) so every prompt gives the same layout.
    """
    if not calls:
        raise UserError(
            "attention diagnostics could not read a block's attention (a custom attention processor?)",
            "Remove custom attention processors, or analyse with --no-attention.",
        )
    video = layout.video_len
    if calls[0].layout == BHSD and len(calls) > 1:  # Mochi: one call per batch row
        call = calls[row]
        query, key = call.query[0], call.key[0]
    else:
        call = calls[0]
        if call.layout == BSHD:
            query, key = call.query[row].transpose(0, 1), call.key[row].transpose(0, 1)
        else:
            query, key = call.query[row], call.key[row]
    length = query.shape[1]
    if order == "video_only":
        if length != video:
            raise ValueError(f"self-attention over {length} tokens, expected {video} video tokens")
        return query, key, _key_valid(call.mask, row, 0, length), call.scale
    key_valid = _key_valid(call.mask, row, 0, length)
    if order == "video_first" and length != layout.sequence_len and text_mask is not None:
        valid = text_mask[row].bool()
        if int(valid.sum()) != length - video:
            raise ValueError("attention text tokens do not match the text mask")
        full_q = query.new_zeros(query.shape[0], layout.text_len, query.shape[2])
        full_k = key.new_zeros(key.shape[0], layout.text_len, key.shape[2])
        full_q[:, valid] = query[:, video:]
        full_k[:, valid] = key[:, video:]
        query = torch.cat([query[:, :video], full_q], dim=1)
        key = torch.cat([key[:, :video], full_k], dim=1)
        key_valid = torch.cat([valid.new_ones(video), valid])
        length = query.shape[1]
    if length != layout.sequence_len:
        raise ValueError(f"attention over {length} tokens, expected {layout.sequence_len}")
    if order == "video_first":
        query = torch.cat([query[:, video:], query[:, :video]], dim=1)
        key = torch.cat([key[:, video:], key[:, :video]], dim=1)
        if key_valid is not None:
            key_valid = torch.cat([key_valid[video:], key_valid[:video]])
    return query, key, key_valid, call.scale
