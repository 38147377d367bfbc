"""Fixtures for the scene tests: small synthetic videos and vbench's scene module (importable
in the project venv only after `tag2text_compat.install()`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scoring.synthetic_videos import render_frames, write_video


def colour_frames(count: int = 18, height: int = 72, width: int = 96) -> np.ndarray:
    """Frames cycling through six flat colours, every fourth one noise: tags differ per frame."""
    rng = np.random.default_rng(5)
    colours = [
        (0, 0, 0),
        (255, 255, 255),
        (255, 0, 0),
        (0, 128, 255),
        (30, 200, 60),
        (250, 240, 20),
    ]
    frames = np.stack([np.full((height, width, 3), colours[i % 6], np.uint8) for i in range(count)])
    frames[::4] = rng.integers(0, 255, frames[::4].shape, dtype=np.uint8)
    return frames


@pytest.fixture(scope="session")
def scene_videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("scene-videos")
    return {
        "colours": write_video(folder / "colours-0.mp4", colour_frames()),
        "square": write_video(
            folder / "square-0.mp4", render_frames("square", 21, 96, 128, seed=11)
        ),
        "short": write_video(folder / "short-0.mp4", render_frames("pan", 9, 64, 96, seed=12)),
    }


@pytest.fixture(scope="session")
def vbench_scene():
    from repvideo_eval.scoring.semantic_models.tag2text_compat import import_tag2text

    import_tag2text()
    import vbench.scene

    return vbench.scene
