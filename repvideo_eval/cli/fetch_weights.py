"""Download and verify the VBench weight files into $VBENCH_CACHE_DIR (VBench's layout and names).

Files with a published checksum are verified against it; the others are recorded in
repvideo_eval_weights.lock.json on first download and verified against that afterwards.
"""

from __future__ import annotations

import argparse

from repvideo_eval.cli.runtime_args import add_vbench_cache_argument
from repvideo_eval.scoring.dimension_registry import (
    implemented_dimensions,
    scorer_class,
    validate_dimensions,
)
from repvideo_eval.scoring.weights import DIMENSION_FILES, default_cache_dir, fetch_for_dimensions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dimensions",
        default=None,
        help="comma-separated dimensions whose weights to fetch (default: every implemented one)",
    )
    add_vbench_cache_argument(parser, old_name=True)
    parser.add_argument(
        "--slow-fast",
        action="store_true",
        help="also the VBench-Long --dev_flag fast-video models (DINOv2 for subject_consistency, "
        "DreamSim for background_consistency), needed only for slow-fast consistency",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide download progress bars")


def execute(args: argparse.Namespace) -> int:
    if args.dimensions:
        dimensions = validate_dimensions([d for d in args.dimensions.split(",") if d.strip()])
    else:
        dimensions = implemented_dimensions()
    for dimension in dimensions:
        scorer_class(dimension)  # importing a scorer module registers its weight files
    dimensions = tuple(d for d in dimensions if d in DIMENSION_FILES)
    cache = default_cache_dir(args.vbench_cache_dir)
    resolved = fetch_for_dimensions(
        dimensions, cache_dir=cache, progress=not args.no_progress, slow_fast=args.slow_fast
    )
    for item in resolved:
        print(f"ok  {item.path}  sha256={item.sha256}  ({item.spec.checksum_source})")
    if not resolved:
        print(f"nothing to fetch for: {', '.join(dimensions)}")
    return 0
