"""`skipped_init`: no random init while building modules a strict checkpoint load overwrites."""

from __future__ import annotations

import pytest
import torch

from repvideo_eval.scoring.models.loading import skipped_init


def test_init_functions_do_nothing_inside_and_are_restored_after():
    original = torch.nn.init.kaiming_uniform_
    zeros = torch.zeros(3, 3)
    with skipped_init():
        assert torch.nn.init.normal_(zeros) is zeros and torch.count_nonzero(zeros) == 0
        torch.nn.init.kaiming_uniform_(zeros, a=5**0.5)
        assert torch.count_nonzero(zeros) == 0
    assert torch.nn.init.kaiming_uniform_ is original
    torch.nn.init.normal_(zeros)
    assert torch.count_nonzero(zeros) == 9


def test_restored_after_an_exception():
    original = torch.nn.init.uniform_
    with pytest.raises(RuntimeError), skipped_init():
        raise RuntimeError("boom")
    assert torch.nn.init.uniform_ is original


def test_strict_load_after_skipped_init_equals_normal_build():
    torch.manual_seed(0)
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(6, 2)
    ).eval()
    with skipped_init():
        built = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(6, 2)
        ).eval()
    built.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 8, 8)
    assert torch.equal(built(x), reference(x))


def test_batch_size_is_one_on_cpu_and_the_gpu_batch_on_cuda():
    from repvideo_eval.scoring.models.loading import batch_size_for

    assert batch_size_for("cpu", 8) == 1
    assert batch_size_for("cuda", 8) == 8 and batch_size_for("cuda:1", 4) == 4
