"""Fixtures for the protocol tests (static filter, VBench-Long): small videos and RAFT files under /tmp."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
BUILD_RAFT = """
import sys, torch
from pathlib import Path
sys.path.insert(0, {scoring!r})
from build_vbench_fixture import build_raft
cache = Path({cache!r})
build_raft(cache)
target = cache / "raft_model" / "models" / "raft-things.pth"
damp = float({damp!r})
if damp != 1.0:
    state = torch.load(target, map_location="cpu", weights_only=True)
    for key in ("module.update_block.flow_head.conv2.weight", "module.update_block.flow_head.conv2.bias"):
        state[key] = state[key] * damp
    torch.save(state, target)
"""


def write_video(path: Path, frames: np.ndarray, fps: float = 8.0) -> Path:
    """H.264 yuv420p like generated samples (the scoring tests' writer)."""
    sys.path.insert(0, str(REPO_ROOT / "tests" / "scoring"))
    try:
        from synthetic_videos import write_video as _write
    finally:
        sys.path.pop(0)
    return _write(path, frames, fps=fps)


def render(kind: str, frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    sys.path.insert(0, str(REPO_ROOT / "tests" / "scoring"))
    try:
        from synthetic_videos import render_frames
    finally:
        sys.path.pop(0)
    return render_frames(kind, frames, height, width, seed=seed)


def build_raft_cache(cache: Path, damp: float = 1.0) -> Path:
    """Random RAFT-large in the official format (`module.` keys) at cache/raft_model/models/.

    Same recipe and seed as the scoring parity fixture. `damp` scales the flow head's last
    conv, which shrinks every flow so that vbench's thresholds can be met (random weights
    otherwise give ~30 px flows and every video is "not static").
    """
    target = cache / "raft_model" / "models" / "raft-things.pth"
    if not target.is_file():
        code = BUILD_RAFT.format(
            scoring=str(REPO_ROOT / "tests" / "scoring"), cache=str(cache), damp=damp
        )
        subprocess.run(
            [sys.executable, "-c", code], check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL
        )
    return target


def run_reference(*args: str) -> subprocess.CompletedProcess:
    """Run tests/scoring_protocols/vbench_static_reference.py offline in a fresh interpreter."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(HERE / "vbench_static_reference.py"), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="session")
def flicker_prompt() -> str:
    """A real temporal_flickering prompt of the packaged VBench_full_info.json."""
    from repvideo_eval.registry import vbench_full_info as load_full_info

    prompts = [e["prompt_en"] for e in load_full_info() if "temporal_flickering" in e["dimension"]]
    assert len(prompts) == 75
    return prompts[0]


def load_json(path: Path):
    return json.loads(Path(path).read_text())
