"""List registered models, suites and VBench dimensions."""

from __future__ import annotations

import argparse

from repvideo_eval import registry


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what", nargs="?", choices=("all", "models", "suites", "dimensions"), default="all"
    )


def _print_models() -> None:
    print("Models (models/*.yaml):")
    for name in registry.list_models():
        card = registry.load_card(name)
        kind = "tiny" if card.is_tiny else card.dtype
        method = (
            f"RepVideo window {card.repvideo.cache_window}, gates {card.repvideo.gates}"
            if card.repvideo
            else "baseline"
        )
        print(f"  {name:<19} {card.family:<16} {kind:<9} {method:<38} {card.description}")
    aliases = registry.list_aliases()
    if aliases:
        print("Aliases:")
        for alias, names in aliases.items():
            print(f"  {alias:<19} = {', '.join(names)}")


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
