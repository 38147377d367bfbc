"""The shared RAFT flow loop and dynamic_degree's stop-when-decided shortcut.

`raft_flows` must give what RAFT's own `forward(test_mode=True)` gives per pair, and the early
stop must never change dynamic_degree's verdict (only how many pairs get scored).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from repvideo_eval.scoring.dimensions import dynamic_degree as dd
from repvideo_eval.scoring.dimensions.dynamic_degree import DynamicDegree, is_moving
from repvideo_eval.scoring.models.raft import raft_flows, raft_input
from repvideo_eval.scoring.scorer import ScorerContext

from .synthetic_videos import render_frames


@pytest.fixture(scope="module")
def tiny_degree() -> DynamicDegree:
    return DynamicDegree(
        ScorerContext(device="cpu", scoring_weights="tiny-random", cache_dir=None, seed=0)
    )


@pytest.mark.parametrize("small", [True, False])
def test_raft_flows_equal_raft_forward_per_pair(small):
    """Against RAFT's own forward (random weights; RAFT-small: bilinear x8, RAFT: convex upsampling)."""
    from easydict import EasyDict
    from vbench.third_party.RAFT.core.raft import RAFT

    torch.manual_seed(0)
    model = RAFT(EasyDict(small=small, mixed_precision=False, alternate_corr=False)).eval()
    frames = render_frames(
        "square", 4, 130, 140, seed=1
    )  # padded to 136x144: RAFT's 4-level pyramid fits
    images = raft_input(frames)
    pairs = [(0, 1), (1, 2), (3, 0)]
    ours = raft_flows(model, images, pairs, "cpu")
    assert ours.shape == (3, 2, 136, 144) and np.isfinite(ours).all() and np.abs(ours).max() > 1.0
    padded_0_255 = (images + 1.0) / 2.0 * 255.0  # RAFT.forward rescales 0..255 input itself
    with torch.inference_mode():
        for (i, j), flow in zip(pairs, ours):
            _, theirs = model(
                padded_0_255[i : i + 1], padded_0_255[j : j + 1], iters=20, test_mode=True
            )
            np.testing.assert_allclose(flow, theirs[0].numpy(), rtol=0, atol=1e-4)


class _FakeFlows:
    """Stands in for `raft_flows`: pair k gets a flat flow of magnitude magnitudes[k]."""

    def __init__(self, magnitudes: list[float]) -> None:
        self.magnitudes = magnitudes
        self.pairs_computed = 0

    def __call__(self, model, images, pairs, device):
        self.pairs_computed += len(pairs)
        return np.stack(
            [
                np.stack(
                    [np.full((8, 8), self.magnitudes[i], np.float32), np.zeros((8, 8), np.float32)]
                )
                for i, _ in pairs
            ]
        )


@pytest.mark.parametrize("count_num", [0, 1, 2, 3])
def test_early_stop_never_changes_the_verdict(tiny_degree, monkeypatch, count_num):
    thres = 1.0
    checked = 0
    for pattern in itertools.product([0.5, 2.0], repeat=6):
        fake = _FakeFlows(list(pattern))
        monkeypatch.setattr(dd, "raft_flows", fake)
        frames = np.zeros((len(pattern) + 1, 8, 8, 3), np.uint8)
        tiny_degree.stop_when_decided = True
        scored = tiny_degree.pair_scores(frames, thres, count_num)
        full = list(pattern)
        assert is_moving(scored, thres, count_num) == is_moving(full, thres, count_num), (
            pattern,
            count_num,
        )
        assert scored == pytest.approx(full[: len(scored)])
        assert fake.pairs_computed == len(scored) <= len(full)
        checked += len(full) - len(scored)
    tiny_degree.stop_when_decided = False
    fake = _FakeFlows([2.0] * 6)
    monkeypatch.setattr(dd, "raft_flows", fake)
    assert len(tiny_degree.pair_scores(np.zeros((7, 8, 8, 3), np.uint8), thres, count_num)) == 6
    tiny_degree.stop_when_decided = True
    assert checked > 0  # the shortcut did skip pairs somewhere


def test_moving_video_stops_after_count_num_pairs(tiny_degree, monkeypatch):
    fake = _FakeFlows([5.0] * 15)
    monkeypatch.setattr(dd, "raft_flows", fake)
    scores = tiny_degree.pair_scores(np.zeros((16, 8, 8, 3), np.uint8), 1.0, 4)
    assert len(scores) == 4 and fake.pairs_computed == 4


def test_static_video_stops_when_moving_is_out_of_reach(tiny_degree, monkeypatch):
    fake = _FakeFlows([0.0] * 15)
    monkeypatch.setattr(dd, "raft_flows", fake)
    scores = tiny_degree.pair_scores(np.zeros((16, 8, 8, 3), np.uint8), 1.0, 4)
    assert len(scores) == 12  # after 12 quiet pairs only 3 remain, fewer than count_num = 4
