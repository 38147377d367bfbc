"""Score a folder of videos on VBench dimensions; writes per_video.csv, eval_results.json, run.json.

The folder is planned as a run plans its videos (`planning.plan_folder`): standard mode (files
named `{prompt}-{i}.mp4` after VBench_full_info.json prompts) scores each video on the requested
dimensions its prompt is tagged for, with the suite's auxiliary info, and puts the 25 samples of
a temporal_flickering prompt through VBench's static filter; custom mode scores every video on
every requested dimension. Bad videos become error rows. The output folder is read by `report`
like a run folder; on a run's own `videos/<card hash>/` folder the records are the run's.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from repvideo_eval.atomic import write_json_atomic
from repvideo_eval.config import DETECTORS
from repvideo_eval.errors import UserError
from repvideo_eval.evaluation import prepare_output_dir
from repvideo_eval.generation.items import GenerationItem
from repvideo_eval.generation.provenance import package_versions
from repvideo_eval.planning import (
    FOLDER_MODES,
    FolderPlan,
    auxiliary_skip_message,
    dimensions_for_video,
    filter_items,
    kept_by_video,
    plan_folder,
    skipped_for_auxiliary_info,
    video_identity,
)
from repvideo_eval.scoring.aggregate import aggregate
from repvideo_eval.scoring.dimension_registry import implemented_dimensions, validate_dimensions
from repvideo_eval.scoring.normalize import quality_score, vbench_summary
from repvideo_eval.scoring.per_video import row_for, write_per_video_csv
from repvideo_eval.scoring.records import ScoreRecord, VideoToScore
from repvideo_eval.scoring.scorer import SCORING_WEIGHTS_MODES
from repvideo_eval.scoring.session import ScoringSession
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS, QUALITY_DIMENSIONS
from repvideo_eval.scoring.vbench_results import write_eval_results

#: `score` has no VBench-Long mode; its records say so in the vbench_mode column.
STANDARD_MODE = "standard"


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
        choices=FOLDER_MODES,
        default="auto",
        help="VBench standard mode (suite file names), custom mode, or auto-detect (default)",
    )
    parser.add_argument(
        "--device", default="cpu", help="torch device, e.g. cpu or cuda:0 (default: cpu)"
    )
    parser.add_argument(
        "--scoring-weights",
        "--weights",
        dest="scoring_weights",
        default="official",
        help=f"scorer weights: {', '.join(SCORING_WEIGHTS_MODES)} (tiny-random[:seed=N] for "
        "offline demos); --weights is the same flag under its old name",
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
        "--model-name",
        default=None,
        help="model column of the records (default: from a run's sidecars, else the folder name)",
    )
    parser.add_argument(
        "--detector",
        choices=("auto", *DETECTORS),
        default="auto",
        help="backend of the four detection dimensions (auto: $REPVIDEO_EVAL_DETECTOR, else grit-torch)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def execute(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    dimensions = validate_dimensions([d for d in args.dimensions.split(",") if d.strip()])
    folder = plan_folder(
        args.videos_dir,
        dimensions,
        mode=args.mode,
        full_info_path=args.full_info_json,
        model=args.model_name,
    )
    skipped = skipped_for_auxiliary_info(folder.suite, tuple(dimensions))
    if skipped:
        print(auxiliary_skip_message(skipped))
    planned = {d for item in folder.items for d in folder.dims_by_prompt.get(item.prompt, ())}
    used = [d for d in dimensions if d in planned]
    if not used:
        raise UserError(
            f"None of the videos in {args.videos_dir} belongs to a prompt tagged for {', '.join(dimensions)} (standard mode).",
            "Use --mode custom to score every video on every dimension.",
        )
    session = ScoringSession(
        used,
        device=args.device,
        scoring_weights=args.scoring_weights,
        cache_dir=args.cache_dir,
        detector=None if args.detector == "auto" else args.detector,
    )
    out = prepare_output_dir(args.output_dir)
    items = list(folder.items)
    selection = _flicker_selection(folder, items, args, out)
    rows: list[dict[str, object]] = []
    records: list[ScoreRecord] = []
    for item in tqdm(
        items, desc=f"scoring ({folder.mode} mode)", unit="video", disable=args.no_progress
    ):
        chosen = dimensions_for_video(item, folder.dims_by_prompt, selection)
        if not chosen:
            continue
        video = VideoToScore(
            Path(item.video_path),
            item.prompt,
            json.loads(folder.aux_by_prompt.get(item.prompt, "{}")),
        )
        identity = video_identity(item, out)
        for record in session.score(video, chosen):
            records.append(record)
            rows.append(row_for(identity, record.dimension, record, STANDARD_MODE))
    write_json_atomic(_run_metadata(folder, items, used, args), out / "run.json")
    write_per_video_csv(rows, out / "per_video.csv")
    write_eval_results(records, out / "eval_results.json")
    print(summary_text(records, folder.mode, out))
    return 0


def _flicker_selection(
    folder: FolderPlan, items: list[GenerationItem], args: argparse.Namespace, out: Path
) -> dict[str, set[str]] | None:
    """VBench's static filter over the flicker prompts' samples, as the run's filter stage does
    it (selections and decisions in OUT/static_filter/); None when no prompt is under it."""
    if not folder.flicker_prompts:
        return None
    from repvideo_eval.stages import StaticFilterWorker

    filters = filter_items(items, folder.flicker_prompts, out)
    worker = StaticFilterWorker(
        args.device, args.scoring_weights, args.cache_dir and str(args.cache_dir), STANDARD_MODE, ""
    )
    for item in filters:
        worker.process(item)
    return kept_by_video(filters, items, None)


def _run_metadata(
    folder: FolderPlan, items: list[GenerationItem], dimensions: list[str], args: argparse.Namespace
) -> dict[str, object]:
    """run.json for the output folder, so `report` reads it like a run folder."""
    models = {item.card_name: item.card_hash for item in items}
    return {
        "run_id": f"score__{'+'.join(models)}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "suite": folder.suite.name,
        "videos_dir": str(Path(args.videos_dir).resolve()),
        "num_prompts": len({item.prompt for item in items}),
        "dimensions": dimensions,
        "vbench_mode": STANDARD_MODE,
        "scoring_weights": args.scoring_weights,
        "models": {
            name: {"card_hash": card_hash, "card": {"name": name}}
            for name, card_hash in models.items()
        },
        "versions": package_versions(),
        "device": args.device,
    }


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
    lines.append(
        f"wrote {output_dir / 'per_video.csv'}, {output_dir / 'eval_results.json'} and run.json"
    )
    return "\n".join(lines)
