"""Shared glue: resolve a weight file for a scorer context, seed tiny models, pick dtypes."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from repvideo_eval.scoring.scorer import ScorerContext
from repvideo_eval.scoring.weights import ResolvedWeight, resolve


def resolve_for(context: ScorerContext, name: str) -> ResolvedWeight:
    """The verified file of weight `name` for an official/local context."""
    return resolve(name, mode=context.weights, cache_dir=context.cache_dir)


def tiny_weights_id(context: ScorerContext) -> str:
    return f"tiny-random:seed={context.seed}"


@contextmanager
def seeded(seed: int):
    """Build tiny models under a fixed seed without disturbing the caller's RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def is_cuda(device: str) -> bool:
    return torch.device(device).type == "cuda"
