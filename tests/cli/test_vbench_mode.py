"""`--vbench-mode auto` follows VBench's FAQ: VBench-Long for videos of 5 s or more."""

from __future__ import annotations

import pytest

from repvideo_eval import registry
from repvideo_eval.cli.run import resolve_vbench_mode
from repvideo_eval.errors import UserError


def test_auto_mode_from_video_length() -> None:
    real = (registry.load_card("cogvideox-2b"), registry.load_card("repvideo-2b"))  # 49 frames at 8 fps = 6.1 s
    tiny = (registry.load_card("cogvideox-tiny"),)  # 9 frames at 8 fps
    assert resolve_vbench_mode("auto", real) == "long"
    assert resolve_vbench_mode("auto", tiny) == "standard"
    assert resolve_vbench_mode("standard", real) == "standard"
    with pytest.raises(UserError, match="different lengths"):
        resolve_vbench_mode("auto", real + tiny)
