"""Convert the official RepVideo SAT checkpoint (HF Vchitect/RepVideo) into a diffusers folder.

Reads SAT_DIR (the folder with the `latest` file and `<iteration>/mp_rank_00_model_states.pt`),
maps every transformer key to diffusers' CogVideoXTransformer3DModel, keeps the learned gates
(`learnable_gating`) in `repvideo.safetensors`, and writes OUT_DIR atomically. Unknown or missing
keys stop the conversion with the key's name. Load the result with
`repvideo_eval.repvideo.load_repvideo(OUT_DIR)`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from repvideo_eval.errors import UserError

_DTYPES = {"keep": None, "float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sat_dir", type=Path, help="SAT checkpoint folder (holds 'latest')")
    parser.add_argument(
        "out_dir", type=Path, help="new folder for the diffusers transformer (must not exist)"
    )
    parser.add_argument(
        "--dtype",
        choices=sorted(_DTYPES),
        default="keep",
        help="weight dtype to write (default: as stored)",
    )
    parser.add_argument(
        "--cache-window",
        type=int,
        default=6,
        help="RepVideo cache size stored with the gates (official: 6)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="JSON file of diffusers config values to override (e.g. sample_height); "
        "defaults are the official CogVideoX-2B SAT settings",
    )


def _read_overrides(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        overrides = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise UserError(
            f"cannot read --config {path}: {err}", "Pass a JSON object of config values."
        ) from None
    if not isinstance(overrides, dict):
        raise UserError(f"--config {path} must hold a JSON object", 'e.g. {"sample_height": 60}')
    return overrides


def execute(args: argparse.Namespace) -> int:
    import torch

    from repvideo_eval.repvideo.sat_convert import convert_sat_checkpoint
    from repvideo_eval.repvideo.schedule import (
        PAPER_CACHE_WINDOW,
        inactive_layers,
        validate_cache_window,
    )

    validate_cache_window(args.cache_window)
    dtype_name = _DTYPES[args.dtype]
    report = convert_sat_checkpoint(
        args.sat_dir,
        args.out_dir,
        config_overrides=_read_overrides(args.config),
        torch_dtype=getattr(torch, dtype_name) if dtype_name else None,
        cache_window=args.cache_window,
    )
    num_layers = report.config["num_layers"]
    print(f"converted {report.source} (iteration {report.iteration}, {report.num_tensors} tensors)")
    print(f"  -> {report.out_dir}")
    print(f"gates ({num_layers}): " + " ".join(f"{g:.4f}" for g in report.gates))
    untrained = inactive_layers(num_layers, PAPER_CACHE_WINDOW)
    print(
        f"gates of blocks {untrained} never received a gradient (official window {PAPER_CACHE_WINDOW})"
    )
    if args.cache_window != PAPER_CACHE_WINDOW:
        no_ops = inactive_layers(num_layers, args.cache_window)
        print(f"with window {args.cache_window} the mix is a no-op at blocks {no_ops}")
    print(f"dropped (derived, checked equal to diffusers): {', '.join(report.dropped)}")
    if report.skipped:
        print(f"skipped {len(report.skipped)} non-transformer tensors (VAE / text encoder)")
    return 0
