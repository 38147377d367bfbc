"""Fixtures for the semantic-dimension tests.

`vbench_rule_modules` imports vbench's four GRiT dimension modules with
`vbench.third_party.grit_model` replaced by a stub (detectron2 is not installable here), so
vbench's own rule functions can be called with fixed detections.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
from scoring.synthetic_videos import render_frames, write_video


@pytest.fixture(scope="session")
def vbench_rule_modules():
    stub = types.ModuleType("vbench.third_party.grit_model")
    stub.DenseCaptioning = object  # never instantiated: the tests pass their own fake model
    saved = sys.modules.get("vbench.third_party.grit_model")
    sys.modules["vbench.third_party.grit_model"] = stub
    try:
        import vbench.color as color
        import vbench.multiple_objects as multiple_objects
        import vbench.object_class as object_class
        import vbench.spatial_relationship as spatial_relationship
    finally:
        if saved is None:
            sys.modules.pop("vbench.third_party.grit_model", None)
        else:
            sys.modules["vbench.third_party.grit_model"] = saved
    return types.SimpleNamespace(
        object_class=object_class,
        multiple_objects=multiple_objects,
        color=color,
        spatial_relationship=spatial_relationship,
    )


@pytest.fixture(scope="session")
def semantic_videos(tmp_path_factory) -> dict[str, Path]:
    """Small videos (odd frame counts, so 16-mid sampling repeats/picks) and one above 768 px."""
    folder = tmp_path_factory.mktemp("semantic-videos")
    return {
        "square": write_video(
            folder / "square-0.mp4", render_frames("square", 21, 96, 128, seed=11)
        ),
        "short": write_video(folder / "short-0.mp4", render_frames("pan", 9, 64, 96, seed=12)),
        "large": write_video(
            folder / "large-0.mp4", render_frames("square", 17, 784, 800, seed=13)
        ),
    }
