"""Short synthetic test videos (H.264 yuv420p, like generated samples) with real structure.

Three motion patterns (near-static noisy gradient, moving red square, panning gradient) so that
consistency, flicker, interpolation and flow all produce non-degenerate values.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np


def render_frames(kind: str, frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        if kind == "static":
            base = np.stack([xs / width * 200, ys / height * 180, np.full_like(xs, 90)], -1)
            img = base + rng.normal(0, 4, base.shape)
        elif kind == "square":
            img = np.stack([ys / height * 60 + 40, xs / width * 80 + 30, np.full_like(xs, 120)], -1)
            size = max(8, min(height, width) // 4)
            top = (t * 5) % max(1, height - size)
            left = (t * 9) % max(1, width - size)
            img[top : top + size, left : left + size] = (230, 20, 20)
            img = img + rng.normal(0, 2, img.shape)
        elif kind == "pan":
            shift = t * 6
            img = np.stack(
                [
                    ((xs + shift) % width) / width * 255,
                    (ys / height) * 255,
                    ((xs + ys + shift) % 64) * 4,
                ],
                -1,
            )
        else:
            raise ValueError(kind)
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def write_video(path: Path, frames: np.ndarray, fps: float = 8.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    imageio.mimwrite(
        str(path),
        list(frames),
        fps=fps,
        codec="libx264",
        macro_block_size=8,
        pixelformat="yuv420p",
        output_params=["-crf", "18"],
    )
    return path
