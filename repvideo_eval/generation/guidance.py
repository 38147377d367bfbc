"""The per-step guidance scale of dynamic CFG, as the official CogVideoX/RepVideo sampler applies it.

The SAT sampler evaluates 1 + scale * (1 - cos(pi * (step_index / num_steps) ** exp)) / 2 with
`step_index = num_steps - timestep`, where `timestep` is the discrete DDPM index (999, 979, ...), not
the step counter. diffusers' CogVideoX pipelines evaluate the same expression with `t.item()`, so the
schedule is non-monotonic (between 1 and 1 + scale) in both. We record it rather than "fix" it: the
point is to sample the way the paper's videos were sampled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def dynamic_cfg_scale(timestep: float, num_steps: int, scale: float, exp: float = 5.0) -> float:
    base = (num_steps - float(timestep)) / num_steps
    powered = base**exp
    if isinstance(powered, complex):
        raise ValueError(
            f"dynamic CFG exponent {exp} is undefined for timestep {timestep} > {num_steps} steps"
        )
    return 1.0 + scale * (1.0 - math.cos(math.pi * powered)) / 2.0


def dynamic_cfg_schedule(
    timesteps: Iterable[float], num_steps: int, scale: float, exp: float = 5.0
) -> list[float]:
    return [dynamic_cfg_scale(t, num_steps, scale, exp) for t in timesteps]
