"""Score a folder of videos on VBench dimensions, into a run folder that `report` reads.

The folder is planned as a run plans its videos (`planning.plan_folder`): standard mode (files
named `{prompt}-{i}.mp4` after VBench_full_info.json prompts) scores each video on the requested
dimensions its prompt is tagged for, with the suite's auxiliary info, and puts the 25 samples of
a temporal_flickering prompt through VBench's static filter; custom mode scores every video on
every requested dimension. On a run's own `videos/<card hash>/` folder the records are the run's.

Then it is the run's own machinery (`evaluation.score_videos`, `evaluation.finish_run`): the same
Ray stage workers, resume (a rerun rescores nothing that is on disk), run.json, results layout,
reports, failures.json and exit code as `run`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
from pathlib import Path

from repvideo_eval.cli.runtime_args import add_scoring_arguments
from repvideo_eval.config import Suite
from repvideo_eval.errors import UserError
from repvideo_eval.planning import (
    FOLDER_MODES,
    FolderPlan,
    RunPlan,
    ScoringSettings,
    auxiliary_skip_message,
    plan_folder,
    skipped_for_auxiliary_info,
)
from repvideo_eval.scoring.aggregate import aggregate
from repvideo_eval.scoring.dimension_registry import implemented_dimensions, parse_dimensions
from repvideo_eval.scoring.normalize import quality_score, vbench_summary
from repvideo_eval.scoring.records import ScoreRecord
from repvideo_eval.scoring.vbench_constants import ALL_DIMENSIONS, QUALITY_DIMENSIONS
from repvideo_eval.vocabulary import (
    AUTO,
    DEFAULT_SCORING_WEIGHTS,
    SCORING_WEIGHTS_MODES,
    STANDARD_MODE,
    TINY_RANDOM_WEIGHTS,
)

#: Without --dimensions: the quality dimensions (every video can be scored on them).
DEFAULT_DIMENSIONS = tuple(q for q in QUALITY_DIMENSIONS if q in implemented_dimensions())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--videos-dir", type=Path, required=True, help="folder with the videos to score"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        required=True,
        help="run folder for the records, per_video.csv, eval_results/ and run.json",
    )
    parser.add_argument(
        "--dimensions",
        default=None,
        help="comma-separated VBench dimensions, or 'all' (default: the quality dimensions)",
    )
    parser.add_argument(
        "--mode",
        choices=FOLDER_MODES,
        default="auto",
        help="VBench standard mode (suite file names), custom mode, or auto-detect (default)",
    )
    parser.add_argument(
        "--scoring-weights",
        "--weights",
        dest="scoring_weights",
        default=DEFAULT_SCORING_WEIGHTS,
        help=f"scorer weights: {', '.join(SCORING_WEIGHTS_MODES)} ({TINY_RANDOM_WEIGHTS}[:seed=N] for "
        "offline demos); --weights is the same flag under its old name",
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
    add_scoring_arguments(parser)


def execute(args: argparse.Namespace) -> int:
    from repvideo_eval.cli.run import print_outcome
    from repvideo_eval.cli.runtime_args import scoring_resources
    from repvideo_eval.devices import resolve_device
    from repvideo_eval.distributed import ray_session
    from repvideo_eval.evaluation import (
        finish_run,
        prepare_output_dir,
        score_videos,
        spec_fields,
        work_left,
        write_run_json,
    )
    from repvideo_eval.scoring.session import scoring_weights_mode, session_detector

    dimensions = parse_dimensions(args.dimensions, DEFAULT_DIMENSIONS)
    scoring_weights_mode(args.scoring_weights)  # a bad value fails here, not in a worker
    resolve_device(args.device)
    resources = scoring_resources(args)
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
    used = tuple(d for d in dimensions if d in planned)
    if not used:
        raise UserError(
            f"None of the videos in {args.videos_dir} belongs to a prompt tagged for {', '.join(dimensions)} (standard mode).",
            "Use --mode custom to score every video on every dimension.",
        )
    requested = None if args.detector == AUTO else args.detector
    detector = session_detector(used, requested, args.scoring_weights)
    settings = ScoringSettings(used, args.scoring_weights, STANDARD_MODE, detector)
    out = prepare_output_dir(args.output_dir)
    plan = RunPlan.of_folder(folder, settings, out)
    fields = spec_fields(
        models=_folder_models(folder),
        suite=_scored_suite(folder),
        dimensions=used,
        scoring_weights=args.scoring_weights,
        vbench_mode=STANDARD_MODE,
        detector=detector,
    )
    run_id = f"score__{'+'.join(plan.items_by_card)}"
    write_run_json(
        plan, fields, run_id=run_id, command="score", device=args.device, videos_dir=args.videos_dir
    )
    generated = list(folder.items)
    with ray_session(resources) if work_left(plan) else contextlib.nullcontext():
        failures = score_videos(
            plan,
            generated,
            resources,
            device=args.device,
            progress=not args.no_progress,
            vbench_cache_dir=args.vbench_cache_dir and str(args.vbench_cache_dir),
            max_video_pixels=args.max_video_pixels,
        )
    outcome = finish_run(plan, failures, reports=True)
    from repvideo_eval.evaluation import scored_records

    records = [record for _, _, record in scored_records(plan) if record is not None]
    print(summary_text(records, folder.mode))
    return print_outcome(outcome)


class FolderModel:
    """A model of a scored folder as run.json lists it: its name and card hash, no card."""

    def __init__(self, name: str, card_hash: str) -> None:
        self.name, self.card_hash = name, card_hash

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name}


def _folder_models(folder: FolderPlan) -> tuple[FolderModel, ...]:
    models = {item.card_name: item.card_hash for item in folder.items}
    return tuple(FolderModel(name, card_hash) for name, card_hash in models.items())


def _scored_suite(folder: FolderPlan) -> Suite:
    """The folder's suite cut to the prompts it has videos of."""
    present = {item.prompt for item in folder.items}
    prompts = tuple(e for e in folder.suite.prompts if e.text in present)
    return dataclasses.replace(folder.suite, prompts=prompts)


def summary_text(records: list[ScoreRecord], mode: str) -> str:
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
    return "\n".join(lines)
