"""Shared fixtures: tiny stock transformers and inputs, built once per test module."""

from __future__ import annotations

import pytest
import torch

from repvideo_eval.repvideo.tiny_configs import build_tiny_transformer, tiny_inputs


@pytest.fixture(scope="module")
def tiny_2b() -> torch.nn.Module:
    return build_tiny_transformer("cogvideox-2b", seed=0)


@pytest.fixture(scope="module")
def inputs_2b() -> dict:
    return tiny_inputs("cogvideox-2b", seed=1)

