"""The cache schedule: which blocks mix, and cache sizes, as the official loop produces them."""

from __future__ import annotations

import pytest

from repvideo_eval.errors import UserError
from repvideo_eval.repvideo import active_layers, cache_sizes, inactive_layers


def _simulated_cache_sizes(num_layers: int, window: int) -> list[int]:
    """Replay the official list operations and record len(cache) before each block."""
    cache = ["embedding"]
    sizes = []
    for i in range(num_layers):
        sizes.append(len(cache))
        cache = [f"out{i}"] if i % window == 0 else cache + [f"out{i}"]
    return sizes


def test_paper_setting_inactive_layers() -> None:
    assert inactive_layers(30, 6) == [0, 1, 7, 13, 19, 25]
    assert len(active_layers(30, 6)) == 24


@pytest.mark.parametrize("window", [1, 2, 3, 5, 6, 7, 40])
@pytest.mark.parametrize("num_layers", [1, 13, 30])
def test_schedule_matches_list_replay(num_layers: int, window: int) -> None:
    sizes = _simulated_cache_sizes(num_layers, window)
    assert cache_sizes(num_layers, window) == sizes
    assert inactive_layers(num_layers, window) == [i for i, s in enumerate(sizes) if s == 1]
    assert sorted(inactive_layers(num_layers, window) + active_layers(num_layers, window)) == list(
        range(num_layers)
    )


def test_edge_windows() -> None:
    assert inactive_layers(13, 1) == list(range(13))  # cache reset after every block
    assert inactive_layers(13, 100) == [0, 1]  # only the reset after block 0
    assert cache_sizes(30, 6)[6] == 6  # block 6 averages all outputs of blocks 0..5


@pytest.mark.parametrize("bad", [0, -1, 2.5, "6", True])
def test_bad_window_is_user_error(bad: object) -> None:
    with pytest.raises(UserError, match="cache window"):
        inactive_layers(30, bad)  # type: ignore[arg-type]
