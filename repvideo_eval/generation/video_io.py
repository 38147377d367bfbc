"""Writing and reading generated videos.

A video is encoded under a temporary name in its folder and renamed (`repvideo_eval.atomic`); the
worker writes its sidecar after it, so the sidecar marks a finished video
(`generation.items.generation_complete`).
"""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np

from repvideo_eval.atomic import write_with_atomic


def frames_to_uint8(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) floats in [0, 1] -> uint8, rounding as diffusers' export does (x * 255, round)."""
    if frames.dtype == np.uint8:
        return frames
    return np.clip(np.round(frames * 255.0), 0, 255).astype(np.uint8)


def write_video_atomic(frames: np.ndarray, path: Path, fps: int) -> None:
    """H.264 yuv420p mp4 (what VBench's sampled videos use), written to a temp name then renamed."""

    def encode(temp: Path) -> None:
        imageio.mimwrite(
            temp,
            list(frames_to_uint8(frames)),
            fps=fps,
            codec="libx264",
            macro_block_size=16,
            pixelformat="yuv420p",
            output_params=["-crf", "18"],
            format="FFMPEG",
        )

    write_with_atomic(Path(path), encode)


def read_video_frames(path: Path) -> np.ndarray:
    """All frames as uint8 (T, H, W, 3) RGB."""
    return np.stack(list(imageio.mimread(path, memtest=False, format="FFMPEG")))
