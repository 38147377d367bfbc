"""Score a folder of videos on VBench dimensions; writes per_video.csv and eval_results.json.

Standard mode (files named `{prompt}-{i}.mp4` after VBench_full_info.json prompts) scores each
video on the requested dimensions its prompt is tagged for, with the suite's auxiliary info;
custom mode scores every video on every requested dimension. Bad videos become error rows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from pathlib import Path

from repvideo_eval.atomic import write_text_atomic
from repvideo_eval.config import DETECTORS
from repvideo_eval.errors import UserError
from repvideo_eval.scoring.aggregate import aggregate
from repvideo_eval.scoring.dimension_registry import implemented_dimensions, validate_dimensions
from repvideo_eval.scoring.normalize import quality_score, vbench_summary
from repvideo_eval.scoring.records import ScoreRecord
from repvideo_eval.scoring.session import WEIGHT_MODES, ScoringSession
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS, QUALITY_DIMENSIONS
from repvideo_eval.scoring.vbench_results import write_eval_results
from repvideo_eval.scoring.vbench_suite import plan

CSV_COLUMNS = ("video", "prompt", "dimension", "score", "weight", "error", "backend", "weights_id")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--videos-dir", type=Path, required=True, help="folder with the videos to score"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        required=True,
        help="where per_video.csv and eval_results.json go",
    )
    parser.add_argument(
        "--dimensions",
        default=",".join(q for q in QUALITY_DIMENSIONS if q in implemented_dimensions()),
        help="comma-separated VBench dimensions (default: the quality dimensions)",
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "standard", "custom"),
        default="auto",
        help="VBench standard mode (suite file names), custom mode, or auto-detect (default)",
    )
    parser.add_argument(
        "--device", default="cpu", help="torch device, e.g. cpu or cuda:0 (default: cpu)"
    )
    parser.add_argument(
        "--weights",
        default="official",
        help=f"weights: {', '.join(WEIGHT_MODES)} (tiny-random[:seed=N] for offline demos)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="weights cache (default: $VBENCH_CACHE_DIR or ~/.cache/vbench)",
    )
    parser.add_argument(
        "--full-info-json",
        type=Path,
        default=None,
        help="prompt suite JSON (default: vbench's packaged one)",
    )
    parser.add_argument(
        "--detector",
        choices=("auto", *DETECTORS),
        default="auto",
        help="backend of the four detection dimensions (auto: $REPVIDEO_EVAL_DETECTOR, else grit-torch)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def records_to_csv(records: list[ScoreRecord]) -> str:
    """per_video.csv text: fixed columns, then the caller's key columns, then details as JSON."""
    key_columns = list(dict.fromkeys(k for r in records for k in r.key))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*CSV_COLUMNS, *key_columns, "details"])
    for r in records:
        score = "" if r.score is None else repr(float(r.score))
        writer.writerow(
            [
                r.video,
                r.prompt,
                r.dimension,
                score,
                repr(float(r.weight)),
                r.error or "",
                r.backend,
                r.weights_id,
                *[r.key.get(k, "") for k in key_columns],
                json.dumps(r.details, sort_keys=True),
            ]
        )
    return buffer.getvalue()


def execute(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    dimensions = validate_dimensions([d for d in args.dimensions.split(",") if d.strip()])
    mode, planned = plan(
        args.videos_dir, dimensions, mode=args.mode, full_info_path=args.full_info_json
    )
    used = [d for d in dimensions if any(d in p.dimensions for p in planned)]
    if not used:
        raise UserError(
            f"None of the videos in {args.videos_dir} belongs to a prompt tagged for {', '.join(dimensions)} (standard mode).",
            "Use --mode custom to score every video on every dimension.",
        )
    session = ScoringSession(
        used,
        device=args.device,
        weights=args.weights,
        cache_dir=args.cache_dir,
        detector=None if args.detector == "auto" else args.detector,
    )
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"Cannot create output folder {args.output_dir} ({exc.strerror}).",
            "Choose a writable --output-dir.",
        ) from None
    records: list[ScoreRecord] = []
    for item in tqdm(
        planned, desc=f"scoring ({mode} mode)", unit="video", disable=args.no_progress
    ):
        if item.dimensions:
            records.extend(session.score(item.video, item.dimensions))
    write_text_atomic(args.output_dir / "per_video.csv", records_to_csv(records))
    write_eval_results(records, args.output_dir / "eval_results.json")
    print(summary_text(records, mode, args.output_dir))
    return 0


def summary_text(records: list[ScoreRecord], mode: str, output_dir: Path) -> str:
    """A short human summary: per-dimension scores, errors, and Quality/Total when complete."""
    scores = aggregate(records)
    errors = sum(1 for r in records if r.error)
    lines = [
        f"{mode} mode: {len({r.video for r in records})} videos, {len(records)} records, {errors} errors"
    ]
    for dim in ALL_DIMENSIONS:
        if dim in scores:
            lines.append(f"  {dim:<24} {scores[dim] * 100:7.2f}%")
    if all(d in scores and math.isfinite(scores[d]) for d in QUALITY_DIMENSIONS):
        lines.append(f"  {'Quality score':<24} {quality_score(scores) * 100:7.2f}%")
    if all(d in scores for d in ALL_DIMENSIONS):
        summary = vbench_summary(scores)
        lines.append(f"  {'Semantic score':<24} {summary['semantic_score'] * 100:7.2f}%")
        lines.append(f"  {'Total score':<24} {summary['total_score'] * 100:7.2f}%")
    lines.append(f"wrote {output_dir / 'per_video.csv'} and {output_dir / 'eval_results.json'}")
    return "\n".join(lines)
