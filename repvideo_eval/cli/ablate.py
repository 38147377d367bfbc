"""Sweep RepVideo's two knobs (cache window, gates) over a grid and write an ablation report.

Example:
  python run_eval.py ablate --model repvideo-2b --grid models/ablations/cache_window_and_gates.yaml --suite vbench/spatial_relationship
  python run_eval.py ablate --model repvideo-tiny --grid models/ablations/cache_window_and_gates.yaml --suite smoke
  python run_eval.py ablate --model wan-tiny --grid my_grid.yaml --suite smoke  # a stock card: fixed and "off" gates

Every variant is the base card with other `repvideo` settings, so weights, sampler, prompts and
seeds are identical. All grids over the same base card and suite share one folder, where videos
are stored by the hash of their generation settings: any variant already generated is reused.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from repvideo_eval import registry
from repvideo_eval.config import STANDARD_PROMPT_SET, ModelCard, RepVideoSettings
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo.schedule import PAPER_CACHE_WINDOW


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from repvideo_eval.cli.run import add_common_arguments

    parser.add_argument(
        "--model",
        required=True,
        help="the card to vary: a RepVideo card (e.g. repvideo-2b, repvideo-tiny), or any "
        "family's stock card with fixed and off gates only (e.g. wan-tiny)",
    )
    parser.add_argument(
        "--grid", type=Path, required=True, help="ablation grid YAML (see models/ablations/)"
    )
    add_common_arguments(parser)


def variant_name(base: str, override: dict[str, Any]) -> str:
    if override["gates"] == "off":
        return f"{base}@gates-off"
    name = f"{base}@w{override['cache_window']}-{override['gates']}"
    if override["gates"] == "fixed":
        name += f"{float(override['gate_value']):g}"
    return name


def variant_cards(base: ModelCard, grid: list[dict[str, Any]]) -> tuple[ModelCard, ...]:
    """One card per grid entry: the base card with that entry's repvideo settings.

    A stock card (no `repvideo` block, any family RepVideo can wrap) takes grids of fixed gates
    and "off" only: RepVideo is training-free there, but there are no learned gates to use.
    """
    if base.repvideo is None and any(o["gates"] == "learned" for o in grid):
        raise UserError(
            f"model {base.name} is not a RepVideo card, so it has no learned gates",
            'Ablate it with gates: [fixed, "off"] only, or ablate a card with a `repvideo` '
            "block, e.g. repvideo-2b.",
        )
    default_window = PAPER_CACHE_WINDOW if base.repvideo is None else base.repvideo.cache_window
    cards: list[ModelCard] = []
    for override in grid:
        window = override.get("cache_window") or default_window
        settings = RepVideoSettings(
            cache_window=int(window), gates=override["gates"], gate_value=override.get("gate_value")
        )
        resolved = {**override, "cache_window": window}
        cards.append(base.with_repvideo(settings, name=variant_name(base.name, resolved)))
    return tuple(cards)


def baseline_of(cards: tuple[ModelCard, ...], base: ModelCard) -> str:
    """Differences are taken against the gates-off variant (same weights, no cross-layer mix) when
    the grid has one, else against the variant with the base card's own settings, else the first."""
    for card in cards:
        if card.repvideo is not None and card.repvideo.gates == "off":
            return card.name
    for card in cards:
        if card.repvideo == base.repvideo:
            return card.name
    return cards[0].name


def execute(args: argparse.Namespace) -> int:
    from repvideo_eval.ablation_grid import load_grid
    from repvideo_eval.cli.run import build_spec, run_spec
    from repvideo_eval.evaluation import DEFAULT_RUNS_DIR
    from repvideo_eval.prompt_sets import describe
    from repvideo_eval.reporting.ablation import write_ablation_report

    base = registry.load_card(args.model)
    cards = variant_cards(base, load_grid(args.grid))
    spec = build_spec(args, cards=cards)
    default_dir = DEFAULT_RUNS_DIR / f"ablate__{spec.suite.name.replace('/', '_')}__{base.name}"
    if spec.prompt_set != STANDARD_PROMPT_SET:  # another set's videos never share the folder
        default_dir = default_dir.with_name(f"{default_dir.name}__{describe(spec.prompt_set)}")
    code, outcome = run_spec(spec, args, default_dir)
    baseline = baseline_of(cards, base)
    paths = write_ablation_report(
        [outcome.run_dir], outcome.run_dir / "ablation", baseline_model=baseline
    )
    print()
    print(paths.markdown_text)
    print(f"\nablation report: {outcome.run_dir / 'ablation'} (baseline: {baseline})")
    return code
