"""Shared fixtures: tiny stock transformers and inputs, built once per test module.

Tiny models run fastest on one thread: on the shared 2-core machine, two spinning OpenMP threads
per process made these tests 3-4x slower. The thread count is restored after the package.
"""

from __future__ import annotations

import pytest
import torch

from repvideo_eval.repvideo.tiny_configs import build_tiny_transformer, tiny_inputs


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def tiny_2b() -> torch.nn.Module:
    return build_tiny_transformer("cogvideox-2b", seed=0)


@pytest.fixture(scope="module")
def inputs_2b() -> dict:
    return tiny_inputs("cogvideox-2b", seed=1)
