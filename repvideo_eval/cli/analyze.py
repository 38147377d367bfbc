"""Representation diagnostics: per-layer adjacent-frame similarity, frame attention and gates (paper Figs. 3-5, 12).

Samples each prompt with each model exactly as an evaluation does and, at the chosen 1-based
sampler steps, reduces every block's conditional-branch features and attention to statistics.
Writes statistics.csv, attention_maps.csv, analysis.json and figures/ (PNG + SVG).

Examples:
  python run_eval.py analyze --model cogvideox-tiny,repvideo-tiny --prompts "a cat" --steps 1,2
  python run_eval.py analyze --model repvideo --prompts smoke --steps 5,20,35,50 --device cuda

See docs/analysis.md for the definitions and the choices the paper leaves open.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from repvideo_eval.devices import resolve_device
from repvideo_eval.errors import UserError
from repvideo_eval.vocabulary import DEFAULT_DEVICE, DEVICE_HELP

if TYPE_CHECKING:
    from repvideo_eval.analysis.runner import AnalysisRequest

DEFAULT_ROOT = Path("results") / "runs" / "analysis"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="card name(s), comma-separated, or an alias (repvideo, tiny)"
    )
    parser.add_argument(
        "--prompts",
        required=True,
        help="a suite name (smoke, vbench/...), a .txt/.yaml file, or a literal prompt",
    )
    parser.add_argument(
        "--steps",
        default=None,
        help="1-based sampler steps, comma-separated (default: the paper's 5,20,35,50, rescaled to the card's step count)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="output folder (default: results/runs/analysis/<models>__<hash>)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="sampling seed, the same for every model and prompt (default 42, as the official script)",
    )
    parser.add_argument(
        "--query-frame",
        type=int,
        default=None,
        help="latent frame whose attention map is kept (default: the middle one)",
    )
    parser.add_argument("--limit-prompts", type=int, default=None, help="only the first N prompts")
    parser.add_argument(
        "--no-attention",
        action="store_true",
        help="skip the attention statistics (features and gates only; much cheaper)",
    )
    parser.add_argument(
        "--no-maps",
        action="store_true",
        help="keep frame attention masses but not the per-key attention maps (the largest file)",
    )
    parser.add_argument(
        "--chunk-mib",
        type=int,
        default=256,
        help="memory for one chunk of attention probabilities, in MiB (default 256)",
    )
    parser.add_argument("--device", default=DEFAULT_DEVICE, help=DEVICE_HELP)
    parser.add_argument(
        "--save-videos",
        action="store_true",
        help="also write the sampled videos to <output>/videos/",
    )


def build_request(args: argparse.Namespace) -> tuple[AnalysisRequest, Path]:
    """Validate every flag into an AnalysisRequest and the output folder; nothing is written."""
    from repvideo_eval import registry
    from repvideo_eval.analysis.options import parse_steps, resolve_prompts
    from repvideo_eval.analysis.runner import AnalysisRequest
    from repvideo_eval.config import stable_hash

    cards = tuple(registry.load_card(name) for name in registry.resolve_model_names(args.model))
    steps = parse_steps(args.steps, cards)
    prompts = resolve_prompts(args.prompts, args.limit_prompts)
    if args.chunk_mib < 1:
        raise UserError("--chunk-mib must be >= 1", "Give the chunk memory in MiB, e.g. 256.")
    if args.seed < 0:
        raise UserError(
            f"--seed must be >= 0, got {args.seed}", "Pass a non-negative integer seed."
        )
    device = resolve_device(args.device)
    request = AnalysisRequest(
        cards=cards,
        prompts=prompts,
        steps=steps,
        seed=int(args.seed),
        query_frame=args.query_frame,
        attention=not args.no_attention,
        chunk_elements=int(args.chunk_mib) * (1 << 20) // 4,
        device=device,
        save_videos=bool(args.save_videos),
        maps=not args.no_maps,
    )
    output = args.output_dir
    if output is None:
        digest = stable_hash(
            {
                "cards": [c.card_hash for c in cards],
                "prompts": list(prompts),
                "steps": list(steps),
                "seed": request.seed,
                "query_frame": args.query_frame,
                "attention": request.attention,
                "maps": request.maps,
            },
            length=8,
        )
        output = DEFAULT_ROOT / f"{'+'.join(c.name for c in cards)}__{digest}"
    check_output_dir(output)
    return request, output


def check_output_dir(output: Path) -> None:
    """Fail before sampling when the output folder cannot be created or written; create nothing."""
    if output.exists() and not output.is_dir():
        raise UserError(f"output path {output} is a file", "Choose a folder for --output-dir.")
    existing = output
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"output folder {output} cannot be written", "Choose another --output-dir.")


def execute(args: argparse.Namespace) -> int:
    from repvideo_eval.analysis.runner import run_analysis
    from repvideo_eval.generation.preflight import check_model_can_run

    request, output = build_request(args)
    for card in request.cards:
        check_model_can_run(card, request.device)
    outputs = run_analysis(request, output, log=lambda line: print(line, file=sys.stderr))
    print(f"statistics: {outputs.statistics_csv}")
    if outputs.maps_csv is not None:
        print(f"attention maps: {outputs.maps_csv}")
    print(f"figures: {len(outputs.figures)} files in {outputs.output_dir / 'figures'}")
    return 0
