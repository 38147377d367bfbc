"""Rebuild leaderboards, plots and the gallery from existing run folders (no model is loaded).

Reads RUN_DIR/per_video.csv and RUN_DIR/run.json of every given run, merges runs of different
models, and writes leaderboard.csv/.md/.json, dimension bars and a radar chart (PNG + SVG) and
gallery.html into the output folder; prints the Markdown leaderboard. With --ablation-baseline it
also writes the ablation table and curves (ablation.csv/.md/.json, ablation_curves.png/.svg).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repvideo_eval.errors import UserError

MIN_RESAMPLES = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `report`."""
    parser.add_argument(
        "run_dirs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="run folders (each holds per_video.csv and run.json)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="where to write the reports (default with one run: RUN_DIR/report; required with several)",
    )
    parser.add_argument("--no-gallery", action="store_true", help="skip gallery.html")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG/SVG plots")
    parser.add_argument(
        "--no-reference", action="store_true", help="leave out the published (reported) rows"
    )
    parser.add_argument(
        "--resamples",
        type=int,
        default=2000,
        help="bootstrap resamples per interval (default 2000)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="bootstrap seed; the same seed gives the same intervals (default 0)",
    )
    parser.add_argument(
        "--ablation-baseline",
        metavar="MODEL",
        default=None,
        help="also write the ablation report, with this model card name as the baseline",
    )


def output_dir_for(args: argparse.Namespace) -> Path:
    """The explicit --output-dir, or RUN_DIR/report for a single run."""
    if args.output_dir is not None:
        return Path(args.output_dir)
    if len(args.run_dirs) == 1:
        return Path(args.run_dirs[0]) / "report"
    raise UserError(
        "several run folders were given but no --output-dir",
        "Add --output-dir OUT to say where the merged report goes.",
    )


def execute(args: argparse.Namespace) -> int:
    """Write every report; print the Markdown leaderboard and the files written."""
    if args.resamples < MIN_RESAMPLES:
        raise UserError(
            f"--resamples {args.resamples} is too few for a 95% percentile interval",
            f"Use at least {MIN_RESAMPLES} (default 2000).",
        )
    from repvideo_eval.reporting import write_reports

    out_dir = output_dir_for(args)
    paths = write_reports(
        args.run_dirs,
        out_dir,
        gallery=not args.no_gallery,
        plots=not args.no_plots,
        reference=not args.no_reference,
        n_resamples=args.resamples,
        seed=args.seed,
    )
    print(paths.markdown_text)
    written = [paths.csv, paths.markdown, paths.json, *paths.plots] + (
        [paths.gallery] if paths.gallery else []
    )
    if args.ablation_baseline:
        from repvideo_eval.reporting.ablation import write_ablation_report

        ablation = write_ablation_report(
            args.run_dirs,
            out_dir,
            args.ablation_baseline,
            plots=not args.no_plots,
            n_resamples=args.resamples,
            seed=args.seed,
        )
        print(ablation.markdown_text)
        written += [ablation.csv, ablation.markdown, ablation.json, *ablation.plots]
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0
