"""Which batch row of a transformer call is the conditional (text-guided) CFG branch.

diffusers' CogVideoX pipelines build the guided batch as ``cat([negative_embeds, prompt_embeds])``
and ``cat([latents] * 2)``, then split the prediction with ``chunk(2)`` into (uncond, cond): the
unconditional branch comes first, the conditional one second, as in the official SAT code
(``uc`` before ``c``). tests/analysis checks this order against a real pipeline call.
"""

from __future__ import annotations


def conditional_row(batch_size: int, guided: bool) -> int:
    """Index of the first conditional row: ``batch_size // 2`` under CFG, else 0."""
    if guided:
        if batch_size % 2:
            raise ValueError(f"a classifier-free-guided batch must be even, got {batch_size}")
        return batch_size // 2
    return 0
