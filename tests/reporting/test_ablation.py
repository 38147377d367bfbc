"""Ablation grids (parsing, clear errors) and the ablation report over RepVideo settings."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from repvideo_eval.ablation_grid import load_grid
from repvideo_eval.errors import UserError
from repvideo_eval.reporting.ablation import write_ablation_report

EXAMPLE_GRID = (
    Path(__file__).resolve().parents[2] / "models" / "ablations" / "cache_window_and_gates.yaml"
)


def grid(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_grid_crosses_windows_and_gates() -> None:
    variants = load_grid(EXAMPLE_GRID)
    windows = [2, 3, 6, 10, 15]
    assert variants[:5] == [
        {"cache_window": w, "gates": "learned", "gate_value": None} for w in windows
    ]
    assert variants[5:10] == [
        {"cache_window": w, "gates": "fixed", "gate_value": 0.5} for w in windows
    ]
    assert variants[10:] == [{"cache_window": None, "gates": "off", "gate_value": None}]


def test_bare_off_explicit_variants_and_duplicates(tmp_path: Path) -> None:
    path = grid(
        tmp_path,
        "cache_window: 6\ngates: [learned, off]\nvariants:\n  - {cache_window: 6, gates: learned}\n"
        "  - {cache_window: 4, gates: fixed, gate_value: 0}\n",
    )
    assert load_grid(path) == [
        {"cache_window": 6, "gates": "learned", "gate_value": None},
        {"cache_window": None, "gates": "off", "gate_value": None},
        {"cache_window": 4, "gates": "fixed", "gate_value": 0.0},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cache_window: [6]\ngates: [fixed]\n", "gate_value is missing"),
        ("cache_window: [6]\ngates: [learned]\ngate_value: [0.5]\n", "does not list fixed"),
        ("cache_window: [0]\n", "positive integer"),
        ("cache_window: [true]\n", r"cache_window\[0\] must be an integer, got True"),
        ("cache_window: ['6']\n", r"cache_window\[0\] must be an integer, got '6'"),
        ("cache_window: [6]\ngates: [sometimes]\n", "one of learned, fixed, seeded, off"),
        ("cache_window: [6]\ngates: [fixed]\ngate_value: [1.5]\n", "between 0 and 1"),
        ("cache_window: [6]\ncache_size: 3\n", "unknown key"),
        ("- 6\n- 4\n", "top level must be a mapping"),
        ("cache_window: [6\n", "not valid YAML"),
        ("gates: []\ncache_window: 6\n", "empty list"),
        ("variants:\n  - {gates: learned}\n", "needs a cache_window"),
        ("variants: 3\n", "list of mappings"),
        ("description: nothing\n", "defines no variant"),
    ],
)
def test_malformed_grids_are_user_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        load_grid(grid(tmp_path, text))


def test_missing_grid_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_grid(tmp_path / "nope.yaml")


def _variants(card_factory) -> list[dict]:
    cards = [
        card_factory(
            "repvideo-tiny", repvideo={"cache_window": 6, "gates": "learned", "gate_value": None}
        )
    ]
    for window in (2, 10):
        cards.append(
            card_factory(
                f"repvideo-tiny-cw{window}",
                repvideo={"cache_window": window, "gates": "learned", "gate_value": None},
            )
        )
        cards.append(
            card_factory(
                f"repvideo-tiny-cw{window}-fixed",
                repvideo={"cache_window": window, "gates": "fixed", "gate_value": 0.5},
            )
        )
    cards.append(
        card_factory(
            "repvideo-tiny-off", repvideo={"cache_window": None, "gates": "off", "gate_value": None}
        )
    )
    return cards


def ablation_score(model: str, prompt: int, sample: int, dim: str) -> float:
    """Off is 0.1 worse than the baseline on every video; the others equal it."""
    return 0.6 + 0.05 * prompt + 0.01 * sample - (0.1 if model.endswith("-off") else 0.0)


def test_ablation_report_table_differences_and_curves(
    tmp_path: Path, run_builder, card_factory
) -> None:
    run = run_builder(tmp_path / "run", _variants(card_factory), score=ablation_score)
    paths = write_ablation_report([run], tmp_path / "out", "repvideo-tiny", n_resamples=300)
    with paths.csv.open(newline="", encoding="utf-8") as handle:
        rows = {row["row"]: row for row in csv.DictReader(handle)}
    assert len(rows) == 6
    assert (
        rows["repvideo-tiny"]["baseline"] == "True"
        and rows["repvideo-tiny"]["subject_consistency_diff"] == ""
    )
    off = rows["repvideo-tiny-off"]
    assert off["gates"] == "off" and off["cache_window"] == ""
    assert float(off["subject_consistency_diff"]) == pytest.approx(-10.0, abs=1e-6)
    assert float(off["subject_consistency_p_value"]) == pytest.approx(
        2 / 16
    )  # 4 prompts, exact sign flip
    fixed = rows["repvideo-tiny-cw2-fixed"]
    assert (fixed["cache_window"], fixed["gates"], fixed["gate_value"]) == ("2", "fixed", "0.5")
    assert float(fixed["motion_smoothness_diff"]) == pytest.approx(0.0, abs=1e-9)
    order = [row for row in rows]
    assert (
        order.index("repvideo-tiny-cw2")
        < order.index("repvideo-tiny")
        < order.index("repvideo-tiny-cw10")
    )
    document = json.loads(paths.json.read_text(encoding="utf-8"))
    assert document["baseline"] == "repvideo-tiny" and document["warnings"]
    assert (
        "RANDOM WEIGHTS" in paths.markdown_text and "Δ Subject Consistency" in paths.markdown_text
    )
    assert sorted(p.name for p in paths.plots) == ["ablation_curves.png", "ablation_curves.svg"]
    svg = paths.plots[1].read_text(encoding="utf-8")
    assert "cache window" in svg and "fixed g=0.5" in svg and "RANDOM WEIGHTS" in svg


def test_cards_that_differ_beyond_repvideo_are_refused(
    tmp_path: Path, run_builder, card_factory
) -> None:
    cards = [
        card_factory(
            "repvideo-tiny", repvideo={"cache_window": 6, "gates": "learned", "gate_value": None}
        ),
        card_factory(
            "other",
            repvideo={"cache_window": 2, "gates": "learned", "gate_value": None},
            num_inference_steps=50,
        ),
    ]
    run = run_builder(tmp_path / "run", cards)
    with pytest.raises(UserError, match="differs from the baseline 'repvideo-tiny' in sampler"):
        write_ablation_report([run], tmp_path / "out", "repvideo-tiny", plots=False)
    assert not (tmp_path / "out").exists()


def test_unknown_baseline_lists_the_models(tmp_path: Path, run_builder, card_factory) -> None:
    run = run_builder(tmp_path / "run", _variants(card_factory)[:2])
    with pytest.raises(UserError, match="Pick one of: repvideo-tiny, repvideo-tiny-cw2"):
        write_ablation_report([run], tmp_path / "out", "cogvideox-2b", plots=False)
