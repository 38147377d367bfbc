"""Shared glue: resolve a weight file for a scorer context, seed tiny models, pick dtypes."""

from __future__ import annotations

from contextlib import contextmanager

import torch

from repvideo_eval.scoring.scorer import ScorerContext
from repvideo_eval.scoring.weights import ResolvedWeight, resolve
from repvideo_eval.vocabulary import tiny_random_weights_id


def resolve_for(context: ScorerContext, name: str) -> ResolvedWeight:
    """The verified file of weight `name` for an official/local context."""
    return resolve(name, mode=context.scoring_weights, cache_dir=context.cache_dir)


def tiny_weights_id(context: ScorerContext) -> str:
    return tiny_random_weights_id(context.seed)


@contextmanager
def seeded(seed: int):
    """Build tiny models under a fixed seed without disturbing the caller's RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


#: The torch.nn.init functions modules call while they build their random initial weights.
_INIT_FUNCTIONS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "eye_",
    "orthogonal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
)


@contextmanager
def skipped_init():
    """Build a module without computing random initial weights that a checkpoint will replace.

    Only for modules that are then loaded with `strict=True` (every parameter and persistent
    buffer is overwritten, so none of the skipped values survives). Random init of ViT-L/14,
    RAFT, AMT and MUSIQ costs seconds of CPU per session; allocation alone is free.
    """
    saved = {
        name: getattr(torch.nn.init, name)
        for name in _INIT_FUNCTIONS
        if hasattr(torch.nn.init, name)
    }
    for name in saved:
        setattr(torch.nn.init, name, _keep)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(torch.nn.init, name, function)


def _keep(tensor: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return tensor


def batch_size_for(device: str, gpu_batch_size: int) -> int:
    """Items per model call: `gpu_batch_size` on CUDA, 1 on CPU.

    Measured on CPU at 720x480 (benchmarks/RESULTS.md): RAFT, AMT and MUSIQ run 10-45 % slower
    with 8 items per call than with one (bigger activations, worse cache use, no launch cost to
    save). On a GPU, batching is what removes vbench's per-frame launch overhead.
    """
    return gpu_batch_size if is_cuda(device) else 1


def is_cuda(device: str) -> bool:
    return torch.device(device).type == "cuda"
