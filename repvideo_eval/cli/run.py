"""Evaluate models on a suite: generate every video, score it with VBench, write leaderboards.

Examples:
  python run_eval.py --model repvideo --suite vbench                 # RepVideo-2B vs CogVideoX-2B, GPUs
  python run_eval.py --model cogvideox-tiny,repvideo-tiny --suite smoke   # offline, CPU, seconds
  python run_eval.py --model repvideo-2b --suite vbench/spatial_relationship --num-gpus 8

Outputs go to --output-dir (default results/runs/<run id>/); rerunning the same command resumes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from repvideo_eval import registry
from repvideo_eval.cli.protocol_preset import add_protocol_argument, apply_protocol
from repvideo_eval.cli.runtime_args import apply_runtime_arguments
from repvideo_eval.config import ModelCard, RunSpec, Suite
from repvideo_eval.errors import UserError
from repvideo_eval.prompt_sets import HELP as PROMPT_SET_HELP
from repvideo_eval.prompt_sets import PROMPT_SET_NAMES, PromptSet
from repvideo_eval.run_layout import RunLayout
from repvideo_eval.scoring.dimension_registry import parse_dimensions
from repvideo_eval.vocabulary import (
    AUTO,
    LOCAL_WEIGHTS,
    OFFICIAL_WEIGHTS,
    SCORING_WEIGHTS_CHOICES,
    TINY_RANDOM_WEIGHTS,
    VBENCH_MODE_CHOICES,
    resolve_scoring_weights,
)

if TYPE_CHECKING:
    from repvideo_eval.evaluation import RunOutcome


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by `run` and `ablate`: suite, dimensions, output, devices, scoring weights, Ray."""
    from repvideo_eval.cli.runtime_args import add_runtime_arguments, add_scoring_arguments

    parser.add_argument(
        "--suite",
        default="smoke",
        help="smoke, vbench, vbench/<dimension>, or a .txt/.yaml path (default: smoke)",
    )
    parser.add_argument("--prompt-set", default=PROMPT_SET_NAMES[0], help=PROMPT_SET_HELP)
    parser.add_argument(
        "--dimensions",
        default=None,
        help="comma-separated VBench dimensions, or 'all' (default: the suite's)",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=None, help="run folder (default: under results/runs/)"
    )
    parser.add_argument(
        "--scoring-weights",
        metavar="{" + ",".join(SCORING_WEIGHTS_CHOICES) + "}",
        default=AUTO,
        help=f"{OFFICIAL_WEIGHTS} VBench weights (checksums enforced), {LOCAL_WEIGHTS} (the cached "
        f"files as they are), or {TINY_RANDOM_WEIGHTS}[:seed=N] ones that test the path offline "
        f"({AUTO}: {TINY_RANDOM_WEIGHTS} for tiny models)",
    )
    parser.add_argument(
        "--vbench-mode",
        choices=VBENCH_MODE_CHOICES,
        default=AUTO,
        help="VBench or VBench-Long (clips); auto: long for videos of 5 s or more, as VBench's FAQ says. "
        "long = the official evaluate_long.sh (--dev_flag: slow-fast subject/background consistency with "
        "DINOv2/DreamSim); long-inclip = clip scores only (vbench-long without --dev_flag)",
    )
    parser.add_argument(
        "--limit-prompts",
        type=int,
        default=None,
        help="only the first N prompts of the suite (quick checks)",
    )
    parser.add_argument(
        "--samples-per-prompt",
        type=int,
        default=None,
        help="override the suite's samples per prompt",
    )
    add_scoring_arguments(parser)
    add_runtime_arguments(parser)
    add_protocol_argument(parser)  # last: it marks the defaults of the flags a preset sets


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        help="card name(s), comma-separated, or an alias (repvideo, tiny); see `list`",
    )
    add_common_arguments(parser)


def build_suite(args: argparse.Namespace, prompt_set: PromptSet | None = None) -> Suite:
    """The suite, with the prompt set's texts (before --limit-prompts, so lines stay aligned)."""
    suite = registry.load_suite(args.suite)
    if prompt_set is not None:
        from repvideo_eval.prompt_sets import apply_prompt_set

        suite = apply_prompt_set(suite, prompt_set)
    if args.limit_prompts is not None:
        if args.limit_prompts < 1:
            raise UserError("--limit-prompts must be >= 1", "Pass a positive number of prompts.")
        suite = dataclasses.replace(suite, prompts=suite.prompts[: args.limit_prompts])
    if args.samples_per_prompt is not None:
        if args.samples_per_prompt < 1:
            raise UserError(
                "--samples-per-prompt must be >= 1", "Pass a positive number of samples."
            )
        prompts = tuple(dataclasses.replace(p, samples=None) for p in suite.prompts)
        suite = dataclasses.replace(
            suite, prompts=prompts, samples_per_prompt=args.samples_per_prompt
        )
    return suite


def build_spec(args: argparse.Namespace, cards: tuple[ModelCard, ...] | None = None) -> RunSpec:
    """Validate every input into a RunSpec; raises UserError before anything touches the disk."""
    if cards is None:
        cards = tuple(registry.load_card(name) for name in registry.resolve_model_names(args.model))
    cards = apply_runtime_arguments(cards, args)
    apply_protocol(args, cards)  # --protocol presets fill flags before anything reads them
    from repvideo_eval.prompt_sets import load_prompt_set

    prompt_set = load_prompt_set(getattr(args, "prompt_set", PROMPT_SET_NAMES[0]))
    suite = build_suite(args, prompt_set)
    default_dims = suite.dimensions
    dimensions = (
        parse_dimensions(args.dimensions, default_dims) if (args.dimensions or default_dims) else ()
    )
    scoring_weights = resolve_scoring_weights(
        args.scoring_weights, all_tiny=all(card.is_tiny for card in cards)
    )
    from repvideo_eval.scoring.session import session_detector

    requested = getattr(args, "detector", AUTO)
    detector = session_detector(
        dimensions, None if requested == AUTO else requested, scoring_weights
    )
    return RunSpec(
        models=cards,
        suite=suite,
        dimensions=dimensions,
        scoring_weights=scoring_weights,
        vbench_mode=resolve_vbench_mode(args.vbench_mode, cards),
        detector=detector,
        prompt_set=prompt_set.name,
        prompt_set_file=None if prompt_set.is_standard else str(prompt_set.path),
    )


def resolve_vbench_mode(requested: str, cards: tuple[ModelCard, ...]) -> str:
    """`auto` follows VBench's FAQ (VBench-Long from 5 s); models of different lengths must say."""
    if requested != AUTO:
        return requested
    from repvideo_eval.scoring.long_mode import default_vbench_mode

    modes = {default_vbench_mode(c.sampler.num_frames, c.sampler.fps) for c in cards}
    if len(modes) > 1:
        raise UserError(
            "these models make videos of different lengths, so VBench and VBench-Long would both apply",
            "Pass --vbench-mode standard or --vbench-mode long so all rows are comparable.",
        )
    return modes.pop()


def run_spec(spec: RunSpec, args: argparse.Namespace, default_dir: Path) -> tuple[int, RunOutcome]:
    """Preflight, prepare the folder, evaluate, print the leaderboard; returns (exit code, outcome)."""
    from repvideo_eval.cli.runtime_args import scoring_resources
    from repvideo_eval.evaluation import evaluate, prepare_output_dir
    from repvideo_eval.generation.preflight import check_model_can_run
    from repvideo_eval.prompt_sets import check_same_prompt_set, describe

    for card in spec.models:
        check_model_can_run(card, args.device)
    check_same_prompt_set(spec, args.output_dir or default_dir)  # before anything is written
    resources = scoring_resources(args)
    run_dir = prepare_output_dir(args.output_dir or default_dir)
    from repvideo_eval.planning import auxiliary_skip_message, skipped_for_auxiliary_info

    skipped = skipped_for_auxiliary_info(spec.suite, spec.dimensions)
    print(
        f"run {spec.run_id}: {len(spec.models)} model(s) x {len(spec.suite.prompts)} prompt(s) x "
        f"{spec.suite.samples_per_prompt} sample(s); dimensions: {', '.join(spec.dimensions) or 'none'}; "
        f"prompt set: {describe(spec.prompt_set)}; output: {run_dir}"
    )
    if skipped:
        print(auxiliary_skip_message(skipped))
    outcome = evaluate(
        spec,
        run_dir,
        resources,
        device=args.device,
        progress=not args.no_progress,
        vbench_cache_dir=args.vbench_cache_dir and str(args.vbench_cache_dir),
        max_video_pixels=args.max_video_pixels,
    )
    _print_truncation(spec, run_dir)
    return print_outcome(outcome), outcome


def print_outcome(outcome: RunOutcome) -> int:
    """The end of `run` and `score`: the leaderboard, where the records are, what failed; the exit code."""
    if outcome.report_markdown:
        print()
        print(outcome.report_markdown)
    if outcome.random_scoring_weights:
        print(
            "\nNOTE: scores above come from tiny RANDOM scorer weights: they test the pipeline, not the models."
        )
    print(f"\nper-video records: {outcome.per_video_csv}")
    if outcome.failures:
        print(
            f"{len(outcome.failures)} item(s) failed (details in {RunLayout(outcome.run_dir).failures_json}):",
            file=sys.stderr,
        )
        for key, error in outcome.failures[:10]:
            print(f"  {key}: {error}", file=sys.stderr)
        return 1
    return 0


def _print_truncation(spec: RunSpec, run_dir: Path) -> None:
    """Once per run: how many prompts the text encoder cut (the sidecars hold each count)."""
    from repvideo_eval.planning import RunPlan
    from repvideo_eval.prompt_sets import truncation_of

    plan = RunPlan.of_spec(spec, run_dir)
    truncation = truncation_of(Path(item.sidecar_path) for item in plan.all_items)
    if truncation.truncated:
        print(truncation.message(spec.prompt_set))


def execute(args: argparse.Namespace) -> int:
    from repvideo_eval.evaluation import DEFAULT_RUNS_DIR

    spec = build_spec(args)
    code, _ = run_spec(spec, args, DEFAULT_RUNS_DIR / spec.run_id)
    return code
