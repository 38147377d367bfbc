"""`ablate` with tiny models: grid variants as cards, shared videos reused, ablation report written."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from repvideo_eval import registry
from repvideo_eval.cli.ablate import baseline_of, variant_cards
from repvideo_eval.errors import UserError

REPO = Path(__file__).resolve().parents[2]


def test_variants_differ_only_in_repvideo_settings() -> None:
    base = registry.load_card("repvideo-tiny")
    grid = [
        {"cache_window": 3, "gates": "learned", "gate_value": None},
        {"cache_window": None, "gates": "fixed", "gate_value": 0.25},
        {"cache_window": None, "gates": "off", "gate_value": None},
    ]
    cards = variant_cards(base, grid)
    assert [c.name for c in cards] == [
        "repvideo-tiny@w3-learned",
        "repvideo-tiny@w6-fixed0.25",
        "repvideo-tiny@gates-off",
    ]
    assert len({c.card_hash for c in cards}) == 3
    for card in cards:
        assert {**card.to_dict(), "name": None, "repvideo": None} == {
            **base.to_dict(),
            "name": None,
            "repvideo": None,
        }
    assert baseline_of(cards, base) == "repvideo-tiny@gates-off"
    with pytest.raises(UserError, match="not a RepVideo card"):
        variant_cards(registry.load_card("cogvideox-tiny"), grid)


def test_a_stock_card_of_any_family_takes_fixed_and_off_grids() -> None:
    base = registry.load_card("wan-tiny")
    assert base.repvideo is None
    grid = [
        {"cache_window": 2, "gates": "fixed", "gate_value": 0.5},
        {"cache_window": None, "gates": "off", "gate_value": None},
    ]
    cards = variant_cards(base, grid)
    assert [c.name for c in cards] == ["wan-tiny@w2-fixed0.5", "wan-tiny@gates-off"]
    assert cards[1].repvideo is not None and cards[1].repvideo.cache_window == 6
    with pytest.raises(UserError, match="no learned gates"):
        variant_cards(base, [{"cache_window": 2, "gates": "learned", "gate_value": None}])


@pytest.mark.slow  # a full ablate run (about 40 s); the grid per family is checked fast in tests/repvideo
def test_ablate_runs_on_another_family(tmp_path: Path) -> None:
    """The whole command on LTX-Video's tiny twin: a window x gate grid plus gates off."""
    grid = tmp_path / "grid.yaml"
    grid.write_text('cache_window: [2, 6]\ngates: [fixed, "off"]\ngate_value: [0.5]\n')
    out = tmp_path / "ablation-run"
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }
    cmd = [sys.executable, str(REPO / "run_eval.py"), "ablate", "--model", "ltx-tiny"]
    cmd += ["--grid", str(grid), "--suite", "smoke", "--limit-prompts", "1"]
    cmd += ["--dimensions", "temporal_flickering", "--output-dir", str(out), "--no-progress"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    with (out / "ablation" / "ablation.csv").open() as stream:
        table = list(csv.DictReader(stream))
    models = {row["model"] if "model" in row else row[next(iter(row))] for row in table}
    assert models == {"ltx-tiny@w2-fixed0.5", "ltx-tiny@w6-fixed0.5", "ltx-tiny@gates-off"}
    assert (out / "ablation" / "ablation.md").is_file()
    videos = sorted((out / "videos").rglob("*.mp4"))
    assert len(videos) == 3  # one prompt, three distinct settings
    assert len({v.read_bytes() for v in videos}) == 3  # each setting changes the video


@pytest.mark.slow
def test_ablate_command_end_to_end_reuses_identical_settings(tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text('cache_window: [3, 6]\ngates: [learned, "off"]\n')
    out = tmp_path / "ablation-run"
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
    }
    cmd = [
        sys.executable,
        str(REPO / "run_eval.py"),
        "ablate",
        "--model",
        "repvideo-tiny",
        "--grid",
        str(grid),
        "--suite",
        "smoke",
        "--limit-prompts",
        "2",
        "--dimensions",
        "temporal_flickering",
        "--output-dir",
        str(out),
        "--no-progress",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    with (out / "ablation" / "ablation.csv").open() as stream:
        table = list(csv.DictReader(stream))
    assert {row["model"] if "model" in row else row[next(iter(row))] for row in table} >= {
        "repvideo-tiny@w3-learned",
        "repvideo-tiny@gates-off",
    }
    assert (out / "ablation" / "ablation.md").is_file() and (
        out / "ablation" / "ablation_curves.png"
    ).is_file()
    assert len(list((out / "videos").iterdir())) == 3  # w3, w6, off: three distinct settings

    # A second grid that shares two settings regenerates only the new one.
    grid.write_text('cache_window: [2, 6]\ngates: [learned, "off"]\n')
    before = {p: p.stat().st_mtime_ns for p in (out / "videos").rglob("*.mp4")}
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    after = {p: p.stat().st_mtime_ns for p in (out / "videos").rglob("*.mp4")}
    assert all(after[p] == t for p, t in before.items())
    assert len(after) == len(before) + 2  # two prompts for the new window-2 variant
