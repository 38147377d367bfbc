"""Which transformer call and batch row is the conditional (text-guided) CFG branch.

diffusers' CogVideoX pipelines build the guided batch as ``cat([negative_embeds, prompt_embeds])``
and ``cat([latents] * 2)``, then split the prediction with ``chunk(2)`` into (uncond, cond): the
unconditional branch comes first, the conditional one second, as in the official SAT code
(``uc`` before ``c``). tests/analysis checks this order against a real pipeline call. LTX-Video,
LTX-2 and Mochi batch the same way (LTX-2 with its spatio-temporal and modality guidance off, as
its shipped cards: with them on, its pipeline adds conditional-only calls per step, and the
runner refuses the card, generation.family_calls.extra_guidance_passes).

diffusers' Wan, HunyuanVideo and HunyuanVideo 1.5 pipelines instead call the transformer once
per branch, the conditional one first (Wan: ``noise_pred`` then ``noise_uncond``; HunyuanVideo:
``cond`` then ``uncond`` under true CFG; HunyuanVideo 1.5's guider: ``pred_cond`` first). Both
calls of a step share the timestep, so a probe tells steps apart by a change of timestep.
"""

from __future__ import annotations

#: pipelines that run one transformer call per CFG branch, conditional first
SEQUENTIAL_CFG_PIPELINES = frozenset(
    {
        "WanPipeline",
        "WanImageToVideoPipeline",
        "HunyuanVideoPipeline",
        "HunyuanVideo15Pipeline",
        "HunyuanVideo15ImageToVideoPipeline",
    }
)


def sequential_cfg(pipe: object) -> bool:
    """True when ``pipe`` calls its transformer once per CFG branch (see the module docstring)."""
    return type(pipe).__name__ in SEQUENTIAL_CFG_PIPELINES


def conditional_row(batch_size: int, guided: bool) -> int:
    """Index of the first conditional row: ``batch_size // 2`` under CFG, else 0."""
    if guided:
        if batch_size % 2:
            raise ValueError(f"a classifier-free-guided batch must be even, got {batch_size}")
        return batch_size // 2
    return 0
