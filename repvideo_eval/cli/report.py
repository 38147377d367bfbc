"""Rebuild leaderboards, plots and the gallery from existing run folders (no model is loaded).

Reads RUN_DIR/per_video.csv and RUN_DIR/run.json of every given run, merges runs of different
models, and writes leaderboard.csv/.md/.json, dimension bars and a radar chart (PNG + SVG) and
gallery.html into the output folder; prints the Markdown leaderboard. With --ablation-baseline it
also writes the ablation table and curves (ablation.csv/.md/.json, ablation_curves.png/.svg).
With --study STUDY_DIR (or a study folder among the arguments) it places the user study beside
the leaderboard: its table is appended to leaderboard.md and study.csv/.md/.json and the
win-ratio plot are written into the output folder. With --compare-to ROW (a published row id such
as vbench-leaderboard:CogVideoX-2B, a run folder, or RUN_DIR::MODEL) it also writes
compare_<ROW>.md/.json: every protocol field that differs and, per dimension, the difference with
the measured row's 95% interval, and prints a paragraph to paste into an issue.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from repvideo_eval.errors import UserError
from repvideo_eval.run_layout import RunLayout

if TYPE_CHECKING:
    from repvideo_eval.study.summary import StudySummary

MIN_RESAMPLES = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `report`."""
    parser.add_argument(
        "run_dirs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="run folders (each holds per_video.csv and run.json); a study folder among them "
        "is taken as --study",
    )
    parser.add_argument(
        "--study",
        type=Path,
        default=None,
        metavar="STUDY_DIR",
        help="a user-study folder (from `study create`) whose results go beside the leaderboard",
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
        "--compare-to",
        metavar="ROW",
        default=None,
        help="also compare every measured row with ROW: a published row id "
        "(e.g. vbench-leaderboard:CogVideoX-2B, repvideo-table1:RepVideo), a run folder, or "
        "RUN_DIR::MODEL; writes compare_<ROW>.md/.json",
    )
    parser.add_argument(
        "--ablation-baseline",
        metavar="MODEL",
        default=None,
        help="also write the ablation report, with this model card name as the baseline",
    )


def split_study_dir(args: argparse.Namespace) -> tuple[list[Path], Path | None]:
    """The run folders and the one study folder (--study, or detected among the arguments).

    A folder holding the study database and no per_video.csv is a study, not a run.
    """
    from repvideo_eval.study.database import database_path

    def is_study(path: Path) -> bool:
        return database_path(path).is_file() and not RunLayout(path).per_video_csv.is_file()

    runs = [Path(p) for p in args.run_dirs if not is_study(Path(p))]
    studies = [Path(p) for p in args.run_dirs if is_study(Path(p))]
    if args.study is not None:
        studies.insert(0, Path(args.study))
    if len(studies) > 1:
        raise UserError(
            f"several study folders were given ({', '.join(map(str, studies))})",
            "Pass one study folder; report other studies with `study report STUDY_DIR`.",
        )
    if not runs:
        raise UserError(
            "no run folder was given, only a study folder",
            "Add the run folders to place the study beside, or use `study report STUDY_DIR`.",
        )
    return runs, (studies[0] if studies else None)


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


def study_section(study: StudySummary | None) -> str:
    """The study's Markdown as a section of leaderboard.md (empty without a study)."""
    if study is None:
        return ""
    from repvideo_eval.study.tables import to_markdown

    return to_markdown(study, level=2)


def execute(args: argparse.Namespace) -> int:
    """Write every report; print the Markdown leaderboard and the files written."""
    if args.resamples < MIN_RESAMPLES:
        raise UserError(
            f"--resamples {args.resamples} is too few for a 95% percentile interval",
            f"Use at least {MIN_RESAMPLES} (default 2000).",
        )
    from repvideo_eval.reporting import write_reports

    args.run_dirs, study_dir = split_study_dir(args)
    out_dir = output_dir_for(args)
    comparisons = None
    if args.compare_to:  # computed first: a bad ROW leaves nothing written
        from repvideo_eval.reporting.compare import compare_runs

        comparisons = compare_runs(
            args.run_dirs, args.compare_to, n_resamples=args.resamples, seed=args.seed
        )
    study = None
    if study_dir is not None:  # computed first: a bad study folder leaves nothing written
        from repvideo_eval.study.summary import summarize_study

        study = summarize_study(
            study_dir, n_resamples=args.resamples, seed=args.seed, reference=not args.no_reference
        )
    paths = write_reports(
        args.run_dirs,
        out_dir,
        gallery=not args.no_gallery,
        plots=not args.no_plots,
        reference=not args.no_reference,
        n_resamples=args.resamples,
        seed=args.seed,
        appendix=study_section(study),
    )
    print(paths.markdown_text)
    written = [paths.csv, paths.markdown, paths.json, *paths.plots] + (
        [paths.gallery] if paths.gallery else []
    )
    if study is not None:
        from repvideo_eval.study.report import write_summary

        written += write_summary(study, out_dir, plots=not args.no_plots)
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
    if comparisons:
        from repvideo_eval.reporting.compare import paragraph, write_comparison

        md_path, json_path, _ = write_comparison(comparisons, out_dir)
        for comparison in comparisons:
            print("\n" + paragraph(comparison))
        written += [md_path, json_path]
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0
