"""`analyze` end to end on every family's tiny twin: the CLI samples under the probes and every
block of every family's transformer gets its adjacent-frame similarities and attention by frame.

One analyze call per group shares the imports and the figures step. Two families stay in the
fast suite (Wan 2.2 A14B with both experts running, HunyuanVideo's dual -> single streams); the
rest run in one slow-marked call (the whole set took over a minute on the shared CPU).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from repvideo_eval import registry
from repvideo_eval.analysis.families import probe_family
from repvideo_eval.analysis.records import read_statistics
from repvideo_eval.cli import analyze
from repvideo_eval.generation.pipelines import load_pipeline
from repvideo_eval.repvideo import pipeline_transformers

#: Wan 2.2 A14B's tiny twin with its boundary raised so the low-noise expert runs step 2
#: (the stock twin's two timesteps, 999 and 923, both fall to the high-noise expert)
LATE = "wan2.2-a14b-late"
FAST = ("hunyuanvideo-tiny",)
SLOW = (
    "wan-tiny",
    "wan2.2-tiny",
    "ltx-tiny",
    "ltx2-tiny",
    "mochi-tiny",
    "hunyuanvideo1.5-tiny",
    "cogvideox1.5-tiny",
    "wan2.2-a14b-tiny",
)


def _late_card(root: Path) -> Path:
    data = registry.load_card("wan2.2-a14b-tiny").to_dict()
    data["name"] = LATE
    data["components"]["pipeline"]["boundary_ratio"] = 0.95
    path = root / f"{LATE}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _analyze(root: Path, models: list[str]) -> Path:
    parser = argparse.ArgumentParser()
    analyze.add_arguments(parser)
    out = root / "out"
    argv = ["--model", ",".join(models), "--prompts", "smoke", "--limit-prompts", "1"]
    argv += ["--steps", "1,2", "--output-dir", str(out), "--device", "cpu", "--seed", "3"]
    assert analyze.execute(parser.parse_args(argv)) == 0
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("analyze-families")
    return _analyze(root, [str(_late_card(root)), *FAST])


@pytest.fixture(scope="module")
def slow_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _analyze(tmp_path_factory.mktemp("analyze-slow"), list(SLOW))


def _check_family(run_dir: Path, name: str, card_ref: str) -> None:
    card = registry.load_card(card_ref)
    pipe = load_pipeline(card, "cpu")
    transformer = pipeline_transformers(pipe)[0]
    blocks = len(probe_family(transformer).blocks(transformer))
    meta = json.loads((run_dir / "analysis.json").read_text(encoding="utf-8"))["models"][name]
    frames = int(meta["layout"]["frames"])
    assert frames >= 2 and set(meta["timesteps"]) == {"1", "2"}

    stats = read_statistics(run_dir / "statistics.csv")
    stats = stats[stats["model"] == name]
    sims = stats[stats["statistic"] == "adjacent_cosine_token"]
    assert set(sims["step"]) == {1, 2}
    assert set(sims["block"].astype(int)) == set(range(blocks))
    assert sims["value"].between(-1.0, 1.0).all()
    attention = stats[stats["tensor"] == "attention"]
    totals = attention.groupby(["step", "block", "frame_i"])["value"].sum()
    assert len(totals) == 2 * blocks * frames
    assert (totals - 1.0).abs().max() < 1e-4  # text mass + frame masses = 1 per query frame


def test_a14b_probes_both_experts(run_dir: Path, tmp_path: Path) -> None:
    late = _late_card(tmp_path)
    meta = json.loads((run_dir / "analysis.json").read_text(encoding="utf-8"))["models"][LATE]
    boundary = 0.95 * 1000
    steps = meta["timesteps"]
    assert steps["1"] >= boundary > steps["2"]  # step 2 ran on the low-noise transformer_2
    _check_family(run_dir, LATE, str(late))
    names = {p.name for p in (run_dir / "figures").iterdir()}
    assert {"similarity_token-matched.png", f"frame_attention_{LATE}.png"} <= names


@pytest.mark.parametrize("name", FAST)
def test_fast_families(run_dir: Path, name: str) -> None:
    _check_family(run_dir, name, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_every_other_family(slow_run: Path, name: str) -> None:
    _check_family(slow_run, name, name)


def test_experts_of_another_family_are_refused() -> None:
    from repvideo_eval.analysis.probes import RepresentationProbe
    from repvideo_eval.errors import UserError
    from repvideo_eval.repvideo.tiny_configs import build_tiny_transformer

    wan = build_tiny_transformer("wan-2.1", seed=0)
    with pytest.raises(UserError, match="one family per pipeline"):
        RepresentationProbe(wan, {1}, guided=True, experts=[build_tiny_transformer("ltx", seed=0)])


def test_an_ltx2_card_with_extra_guidance_passes_is_refused_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LTX-2's spatio-temporal guidance adds a conditional-only call to every step: calls are no
    longer steps, so analyze refuses the card in one line, before any weight is built."""
    from repvideo_eval.errors import UserError
    from repvideo_eval.generation import pipelines

    data = registry.load_card("ltx2-tiny").to_dict()
    data["name"] = "ltx2-stg"
    data["sampler"]["pipeline_kwargs"]["stg_scale"] = 1.0
    card = tmp_path / "ltx2-stg.yaml"
    card.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setattr(pipelines, "load_pipeline", lambda *a, **k: pytest.fail("loaded"))
    with pytest.raises(UserError, match="ltx2-stg: analyze reads one transformer call per step"):
        _analyze(tmp_path, [str(card)])
