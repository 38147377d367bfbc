"""RepVideo's block loop, shared by every model family.

The mix lives here, in the loop itself, rather than in hooks or block wrappers: under gradient
checkpointing a block is run twice (forward, then recomputation), and anything stateful inside
the checkpointed call would see the cache twice. Here only the block call is checkpointed; the
cache and the mix sit outside it, so checkpointing works unchanged.

Official semantics (``sat/transformer_gating.py``), per block ``i`` with gate ``g[i]``::

    h = g[i] * mean(cache) + (1 - g[i]) * h      # before the block, every stream
    h = block(h)
    cache = [h] if i % window == 0 else cache + [h]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from repvideo_eval.repvideo.running_mean import RunningWindowMean
from repvideo_eval.repvideo.schedule import cache_sizes, resets_after

Streams = tuple[torch.Tensor, ...]
RunBlock = Callable[[int, torch.nn.Module, Streams], Streams]


def mix(hidden: torch.Tensor, cached_mean: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """The official gate convention: ``g`` weights the cached mean, ``1 - g`` the current input."""
    return gate * cached_mean + (1 - gate) * hidden


def mixing_plan(gates: torch.Tensor, cache_window: int) -> list[bool]:
    """Which blocks must compute the mix in this forward pass.

    A block is skipped when its cache holds one entry (the mix is then a no-op) or, outside
    training, when its gate is exactly 0: ``0 * x + 1 * h`` is not always ``h`` bit for bit
    (``-0.0`` becomes ``+0.0``; an inf or NaN in the mean leaks through ``0 * x``), and skipping
    makes gates at 0 reproduce the stock model exactly. Under autograd a zero gate is still
    mixed so that it receives its gradient. Reading the gates costs one host sync per forward.
    """
    sizes = cache_sizes(gates.shape[0], cache_window)
    plan = [size > 1 for size in sizes]
    if not (torch.is_grad_enabled() and gates.requires_grad):
        nonzero = gates.detach().ne(0).tolist()
        plan = [p and nz for p, nz in zip(plan, nonzero)]
    return plan


def take(owned: list[torch.Tensor]) -> Streams:
    """Move the tensors out of ``owned`` (emptied), so the caller keeps no reference to them.

    The stock forwards rebind their hidden-state variables block by block, which frees the
    embedding after block 0; a caller that still held it would pay one extra buffer per stream.
    """
    streams = tuple(owned)
    owned.clear()
    return streams


def run_repvideo_blocks(
    blocks: Sequence[torch.nn.Module],
    owned_streams: list[torch.Tensor],
    run_block: RunBlock,
    gates: torch.Tensor,
    cache_window: int,
    plan: Sequence[bool] | None = None,
) -> Streams:
    """Run ``blocks`` over the streams with RepVideo's cross-layer mix before each block.

    ``owned_streams`` is emptied (see ``take``). ``run_block(i, block, streams)`` calls one
    block (checkpointed or not) and returns the new streams in the same order. All streams
    share the gate and the cache schedule, which equals the official computation over their
    concatenation (a mean of concatenations is the concatenation of means). ``plan`` (from
    ``mixing_plan``) may be given precomputed, so a compiled forward reads no gate values.
    """
    streams = take(owned_streams)
    if gates.shape[0] != len(blocks):
        raise ValueError(f"{gates.shape[0]} RepVideo gates for {len(blocks)} blocks")
    if plan is None:
        plan = mixing_plan(gates, cache_window)
    # After the last block that mixes, the cache is never read again: stop updating it.
    last_mix = max((i for i, mixes in enumerate(plan) if mixes), default=-1)
    if last_mix < 0:  # nothing mixes (e.g. all gates 0): the stock loop, no cache at all
        owned = list(streams)
        del streams  # the stock loop must own the only references (see take)
        return run_stock_blocks(blocks, owned, run_block)
    cache = RunningWindowMean(streams)
    for i, block in enumerate(blocks):
        if plan[i]:
            gate = gates[i]
            means = cache.means(streams)
            streams = tuple(mix(h, m, gate.to(h.dtype)) for h, m in zip(streams, means))
            del means
        streams = run_block(i, block, streams)
        if i >= last_mix:
            continue
        if resets_after(i, cache_window):
            cache.reset(streams)
        else:
            cache.append(streams)
    return streams


def run_stock_blocks(
    blocks: Sequence[torch.nn.Module], owned_streams: list[torch.Tensor], run_block: RunBlock
) -> Streams:
    """The unmodified loop (RepVideo switched off): no cache, no mix, no extra memory."""
    streams = take(owned_streams)
    for i, block in enumerate(blocks):
        streams = run_block(i, block, streams)
    return streams
