"""The golden GRiT frames: small seeded RGB images whose sizes cover GRiT's shape paths.

Sizes: every frame is smaller than one 14x14-patch attention window (224 px) on at least one
side, several on both; most are not multiples of 32 (padding); one is wider than 1024 px; one is
flat grey. Content is a noisy background with a few coloured rectangles and discs, some touching
the border, from numpy's PCG64 (the same pixels on every machine). Which frames give no
detection, overlapping boxes, border-crossing boxes, an end token first and a 40-token caption
depends on the weights: scripts/grit_golden.py checks that the chosen seed covers each case.
"""

from __future__ import annotations

import numpy as np

#: name -> (height, width, content seed); "flat" frames are one grey level.
FRAMES: dict[str, tuple[int, int, int]] = {
    "tiny-64x96": (64, 96, 1),
    "odd-70x101": (70, 101, 2),
    "wide-40x1040": (40, 1040, 3),
    "flat-64x64": (64, 64, -1),
    "shapes-96x128": (96, 128, 4),
    "shapes-128x96": (128, 96, 5),
    "odd-83x147": (83, 147, 6),
    "square-80x80": (80, 80, 7),
    "odd-150x118": (150, 118, 8),
    "strip-72x200": (72, 200, 9),
    "odd-100x61": (100, 61, 10),
    "square-144x144": (144, 144, 11),
}


def render(height: int, width: int, seed: int) -> np.ndarray:
    """An RGB uint8 HxWx3 frame (see the module docstring)."""
    if seed < 0:
        return np.full((height, width, 3), 128, dtype=np.uint8)
    rng = np.random.Generator(np.random.PCG64(seed))
    frame = rng.integers(0, 256, size=3) * 0.6 + rng.normal(0, 20, size=(height, width, 3))
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(int(rng.integers(2, 6))):
        colour = rng.integers(0, 256, size=3)
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry = rng.uniform(0.1, 0.5) * height
        rx = rng.uniform(0.1, 0.5) * min(width, 4 * height)
        if rng.uniform() < 0.5:
            mask = (np.abs(yy - cy) < ry) & (np.abs(xx - cx) < rx)
        else:
            mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
        frame[mask] = colour + rng.normal(0, 8, size=(int(mask.sum()), 3))
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def golden_frames() -> dict[str, np.ndarray]:
    """name -> frame, in FRAMES order."""
    return {name: render(*spec) for name, spec in FRAMES.items()}
