"""The cache schedule of RepVideo's official code, as pure functions (no torch needed).

The official loop resets the cache to ``[block output]`` after block ``i`` when
``i % cache_window == 0`` and appends otherwise. Block ``i``'s input is mixed with the mean of the
cache; when the cache holds a single entry that entry *is* the current hidden state, so the mix
is a no-op. Knowing those blocks lets the forward skip them and lets reports say which gates can
never receive a gradient.
"""

from __future__ import annotations

from repvideo_eval.config import check_cache_window
from repvideo_eval.errors import UserError

#: The paper's and the official code's cache size ("aggregates features across every m layers").
PAPER_CACHE_WINDOW = 6
#: The official code initialises every gate to this value (one raw scalar per block, no sigmoid).
PAPER_GATE_INIT = 0.5


def validate_cache_window(cache_window: int) -> int:
    """Return ``cache_window`` if `config.check_cache_window` accepts it, else a UserError."""
    try:
        return check_cache_window(cache_window)
    except ValueError as error:
        raise UserError(str(error), "Use the paper's value 6, or any integer >= 1.") from None


def resets_after(block_index: int, cache_window: int) -> bool:
    """True when the cache restarts from this block's output (the official ``i % window == 0``)."""
    return block_index % cache_window == 0


def cache_sizes(num_layers: int, cache_window: int) -> list[int]:
    """Number of cached tensors seen by each block's input mix (1 means the mix is a no-op)."""
    validate_cache_window(cache_window)
    sizes = []
    size = 1  # the cache starts as [embedded sequence]
    for i in range(num_layers):
        sizes.append(size)
        size = 1 if resets_after(i, cache_window) else size + 1
    return sizes


def inactive_layers(num_layers: int, cache_window: int) -> list[int]:
    """Blocks whose input mix is a no-op because the cache holds one entry.

    For CogVideoX-2B (30 blocks) and window 6 this is ``[0, 1, 7, 13, 19, 25]``: the official
    checkpoint's gates at these blocks never received a gradient.
    """
    return [i for i, size in enumerate(cache_sizes(num_layers, cache_window)) if size == 1]


def active_layers(num_layers: int, cache_window: int) -> list[int]:
    """Blocks whose input really is mixed with the cached mean (the complement of inactive_layers)."""
    inactive = set(inactive_layers(num_layers, cache_window))
    return [i for i in range(num_layers) if i not in inactive]
