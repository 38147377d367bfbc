"""List registered models, suites and VBench dimensions."""

from __future__ import annotations

import argparse

from repvideo_eval import registry
from repvideo_eval.config import ModelCard


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what", nargs="?", choices=("all", "models", "suites", "dimensions"), default="all"
    )


def _method(card: ModelCard) -> str:
    """The card's RepVideo settings in a few words ("baseline" without a repvideo block)."""
    if card.repvideo is None:
        return "baseline"
    text = f"RepVideo window {card.repvideo.cache_window}, gates {card.repvideo.gates}"
    if card.repvideo.gates == "fixed":
        text += f" {card.repvideo.gate_value:g}"
    if card.repvideo.gates == "seeded":
        text += f" (seed {card.repvideo.gate_seed})"
    return text


def _print_models() -> None:
    """One row per card: name, family, source (hub, tiny, random), dtype, method, description;
    the columns are as wide as their longest entry, so long names (x-random) stay aligned."""
    print("Models (models/*.yaml):")
    cards = [registry.load_card(name) for name in registry.list_models()]
    rows = [(c.name, c.family, c.source, c.dtype, _method(c), c.description) for c in cards]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(5)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  " + " ".join([*cells, row[5]]).rstrip())
    aliases = registry.list_aliases()
    if aliases:
        print("Aliases:")
        for alias, names in aliases.items():
            print(f"  {alias:<{widths[0]}} = {', '.join(names)}")


def _print_suites() -> None:
    print("Suites (prompts/*.yaml, vbench, vbench/<dimension>, or a path to a .txt/.yaml file):")
    for name in registry.list_suites():
        print(f"  {name}")


def _print_dimensions() -> None:
    from repvideo_eval.scoring.dimension_registry import implemented_dimensions

    print("VBench dimensions:")
    for name in implemented_dimensions():
        print(f"  {name}")


def execute(args: argparse.Namespace) -> int:
    sections = {"models": _print_models, "suites": _print_suites, "dimensions": _print_dimensions}
    chosen = list(sections) if args.what == "all" else [args.what]
    for index, name in enumerate(chosen):
        if index:
            print()
        sections[name]()
    return 0
