"""Sampler parity: the dynamic-CFG schedule we record is the official formula and what diffusers applies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repvideo_eval.generation.guidance import dynamic_cfg_schedule
from repvideo_eval.generation.tiny import tiny_scheduler


def official_formula(
    timestep: float, num_steps: int = 50, scale: float = 6.0, exp: int = 5
) -> float:
    # SAT's DynamicCFG: step_index = num_steps - timestep (the DDPM index), evaluated independently here.
    x = (num_steps - timestep) / num_steps
    return 1 + scale * (1 - np.cos(np.pi * np.power(x, exp))) / 2


def test_schedule_matches_independent_formula_over_50_official_steps() -> None:
    scheduler = tiny_scheduler()
    scheduler.set_timesteps(50)
    timesteps = [float(t) for t in scheduler.timesteps]
    assert timesteps[0] == 999.0 and timesteps[-1] == 19.0 and len(timesteps) == 50
    ours = dynamic_cfg_schedule(timesteps, 50, 6.0, 5.0)
    expected = [official_formula(t) for t in timesteps]
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
    # The digest's hand-computed values: non-monotonic, between 1 and 7, mean 3.815.
    assert [round(v, 3) for v in ours[:5]] == [2.291, 2.544, 6.974, 6.42, 2.788]
    assert [round(v, 3) for v in ours[-5:]] == [6.864, 1.064, 1.0, 1.0, 1.123]
    assert math.isclose(sum(ours) / 50, 3.815, abs_tol=5e-4)
    assert min(ours) >= 1.0 and max(ours) <= 7.0


def test_non_integer_exponent_with_large_timestep_is_rejected() -> None:
    with pytest.raises(ValueError):
        dynamic_cfg_schedule([999.0], 50, 6.0, 4.5)
