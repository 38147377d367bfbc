"""Backbone pieces against vbench's own helpers (grit/modeling/backbone/utils.py, no detectron2)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from repvideo_eval.scoring.detection.grit_torch.backbone import (
    Attention,
    abs_pos_grid,
    window_partition,
    window_unpartition,
)
from repvideo_eval.scoring.detection.grit_torch.config import GRIT_B

from .vbench_pieces import load

CONFIG = dataclasses.replace(GRIT_B, embed_dim=32, num_heads=4)


@pytest.mark.parametrize("height, width", [(2, 3), (14, 14), (17, 30)])
def test_window_partition_equals_vbench(height, width):
    utils = load("backbone", "utils")
    x = torch.randn(2, height, width, 8)
    windows, padded = window_partition(x, 14)
    expected, expected_padded = utils.window_partition(x, 14)
    assert padded == expected_padded and torch.equal(windows, expected)
    assert torch.equal(window_unpartition(windows, 14, padded, (height, width)), x)


@pytest.mark.parametrize("height, width, table", [(14, 14, 14), (5, 66, 64), (3, 2, 64)])
def test_attention_with_resized_relative_positions_equals_vbench(height, width, table):
    """vbench's attention arithmetic (scale, product, decomposed rel-pos, softmax) on our weights,
    with the rel-pos tables interpolated when the axis is not the table's size."""
    utils = load("backbone", "utils")
    torch.manual_seed(height * 100 + width)
    attention = Attention(CONFIG, table).eval()
    with torch.no_grad():
        attention.rel_pos_h.normal_()
        attention.rel_pos_w.normal_()
        x = torch.randn(2, height, width, CONFIG.embed_dim)
        heads = CONFIG.num_heads
        qkv = attention.qkv(x).reshape(2, height * width, 3, heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, 2 * heads, height * width, -1).unbind(0)
        attn = (q * attention.scale) @ k.transpose(-2, -1)
        attn = utils.add_decomposed_rel_pos(
            attn, q, attention.rel_pos_h, attention.rel_pos_w, (height, width), (height, width)
        ).softmax(dim=-1)
        out = (attn @ v).view(2, heads, height, width, -1).permute(0, 2, 3, 1, 4)
        expected = attention.proj(out.reshape(2, height, width, -1))
        assert torch.equal(attention(x), expected)


@pytest.mark.parametrize("height, width", [(14, 14), (4, 66), (30, 17)])
def test_absolute_positions_equal_vbench(height, width):
    utils = load("backbone", "utils")
    table = torch.randn(1, 197, 16)
    expected = utils.get_abs_pos(table, True, (height, width))
    assert torch.equal(abs_pos_grid(table, 14, height, width), expected)
