"""Convert the official RepVideo SAT checkpoint (HF ``Vchitect/RepVideo``) to a diffusers folder.

SAT layout: a ``latest`` file holding the iteration, and ``<iteration>/mp_rank_00_model_states.pt``
whose dict holds the state dict under ``"module"``, keys prefixed ``model.diffusion_model.``.
The output is a diffusers ``CogVideoXTransformer3DModel`` folder (safetensors) plus
``repvideo.safetensors`` with the learned gates, loadable with ``load_repvideo``. The folder is
built under a temporary name next to ``out_dir`` and renamed at the end, so a failed or
interrupted conversion leaves nothing behind.

The checkpoint is read with ``torch.load(weights_only=True)`` only. SAT saves its run arguments
(an ``argparse.Namespace``) beside the weights; that one type is allowed for the load, and any
other non-tensor object stops the conversion with a UserError naming it.
"""

from __future__ import annotations

import argparse
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from repvideo_eval.atomic import atomic_dir
from repvideo_eval.errors import UserError
from repvideo_eval.repvideo.model_state import GATES_FILE
from repvideo_eval.repvideo.sat_keys import (
    SAT_GATES_KEY,
    SAT_POS_EMBED_KEY,
    SAT_PREFIX,
    infer_transformer_config,
    map_sat_state_dict,
)
from repvideo_eval.repvideo.schedule import PAPER_CACHE_WINDOW

LATEST_FILE = "latest"
MODEL_STATES_FILE = "mp_rank_00_model_states.pt"
STATE_DICT_KEY = "module"

#: Non-tensor types a SAT checkpoint is known to hold next to the weights (its run arguments).
ALLOWED_PICKLE_GLOBALS: list[Any] = [argparse.Namespace]

#: CogVideoX-2B as the official SAT config builds it (sat/configs/cogvideox_2b.yaml), for what
#: the tensor shapes cannot tell. SAT's layer norms use eps 1e-6 (DiffusionTransformer passes
#: ``LayerNorm(eps=1e-6)``), hence ``norm_eps``; diffusers' CogVideoX conversion script keeps the
#: class default 1e-5 (so, presumably, does the published THUDM/CogVideoX-2b diffusers config).
SAT_2B_DEFAULTS: dict[str, Any] = {
    "sample_width": 90,
    "sample_height": 60,
    "sample_frames": 49,
    "temporal_compression_ratio": 4,
    "max_text_seq_length": 226,
    "spatial_interpolation_scale": 1.875,
    "temporal_interpolation_scale": 1.0,
    "norm_eps": 1e-6,
    "use_rotary_positional_embeddings": False,
}


@dataclass
class ConversionReport:
    """What a conversion did, for the CLI to print and tests to check."""

    out_dir: Path
    source: Path
    iteration: str
    num_tensors: int
    config: dict[str, Any]
    gates: list[float]
    dropped: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _latest_files(root: Path, max_depth: int) -> list[Path]:
    """``latest`` files in ``root`` and up to ``max_depth`` levels of sub-folders (hidden ones skipped)."""
    found, level = [], [root]
    for _ in range(max_depth + 1):
        found += [folder / LATEST_FILE for folder in level if (folder / LATEST_FILE).is_file()]
        level = [
            p
            for folder in level
            for p in sorted(folder.iterdir())
            if p.is_dir() and not p.name.startswith(".")
        ]
    return found


def find_checkpoint_file(sat_dir: str | os.PathLike[str]) -> tuple[Path, str]:
    """Locate ``<iteration>/mp_rank_00_model_states.pt`` through the ``latest`` file.

    Looks in ``sat_dir`` and, for a downloaded repository that wraps the SAT folder (e.g.
    ``ckpt/RepVideo``), up to two levels of sub-folders; more than one checkpoint is an error.
    Returns the file and the iteration string.
    """
    root = Path(sat_dir)
    if not root.is_dir():
        raise UserError(
            f"SAT checkpoint folder {root} does not exist",
            "Pass the folder that holds the 'latest' file.",
        )
    candidates = _latest_files(root, max_depth=2)
    if not candidates:
        raise UserError(
            f"no '{LATEST_FILE}' file in {root} or its sub-folders",
            "Pass the SAT checkpoint folder of Vchitect/RepVideo "
            "(it holds 'latest' and '<iteration>/mp_rank_00_model_states.pt').",
        )
    if len(candidates) > 1:
        raise UserError(
            f"{root} holds several SAT checkpoints ({', '.join(str(c.parent) for c in candidates)})",
            "Pass the one folder to convert.",
        )
    latest = candidates[0]
    iteration = latest.read_text().strip()
    path = latest.parent / iteration / MODEL_STATES_FILE
    if not iteration or not path.is_file():
        raise UserError(
            f"{latest} names iteration {iteration!r} but {path} does not exist",
            "Download the whole checkpoint folder (latest file and the iteration folder).",
        )
    return path, iteration


def load_sat_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``"module"`` state dict of a SAT model-states file, loaded with weights_only=True."""
    try:
        with torch.serialization.safe_globals(ALLOWED_PICKLE_GLOBALS):
            try:
                saved = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as err:  # legacy (non-zip) files cannot be memory-mapped
                if "mmap" not in str(err):
                    raise
                saved = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        try:
            allowed = {f"{g.__module__}.{g.__qualname__}" for g in ALLOWED_PICKLE_GLOBALS}
            found = torch.serialization.get_unsafe_globals_in_checkpoint(path)
            unsafe = ", ".join(g for g in found if g not in allowed) or str(err).splitlines()[0]
        except Exception:  # the listing itself may fail on legacy files
            unsafe = str(err).splitlines()[0]
        raise UserError(
            f"{path} holds non-tensor objects that a weights-only load refuses ({unsafe})",
            "Re-save only the state dict ({'module': state_dict}) from a trusted environment.",
        ) from None
    if (
        not isinstance(saved, dict)
        or STATE_DICT_KEY not in saved
        or not isinstance(saved[STATE_DICT_KEY], dict)
    ):
        raise UserError(
            f"{path} has no '{STATE_DICT_KEY}' state dict",
            "Is this a SAT mp_rank_00_model_states.pt file?",
        )
    return saved[STATE_DICT_KEY]


def _check_pos_embedding(sat_table: torch.Tensor | None, diffusers_table: torch.Tensor) -> None:
    """The SAT sin-cos table must equal the one diffusers computes, since diffusers drops it."""
    key = SAT_PREFIX + SAT_POS_EMBED_KEY
    if sat_table is None:
        raise UserError(
            f"SAT checkpoint is missing key {key!r}",
            "Is this the CogVideoX-2B (sin-cos) transformer?",
        )
    if tuple(sat_table.shape) != tuple(diffusers_table.shape):
        raise UserError(
            f"SAT key {key!r} has shape {tuple(sat_table.shape)}, diffusers computes {tuple(diffusers_table.shape)}",
            "Pass sample_height/sample_width/sample_frames/max_text_seq_length matching the checkpoint.",
        )
    tol = max(1e-4, 2 * torch.finfo(sat_table.dtype).eps)
    diff = (sat_table.float() - diffusers_table.float()).abs().max().item()
    if diff > tol:
        raise UserError(
            f"SAT key {key!r} differs from diffusers' sin-cos table by {diff:.3g} (tolerance {tol:.1g})",
            "Check the interpolation scales and sample size in the conversion config.",
        )


def diffusers_pos_table(model: Any, config: dict[str, Any]) -> torch.Tensor:
    """The float32 sin-cos table diffusers computes for this config (a non-persistent buffer)."""
    return model.patch_embed._get_positional_embeddings(
        config["sample_height"], config["sample_width"], config["sample_frames"], device="cpu"
    )


def build_transformer(mapped_state: dict[str, torch.Tensor], config: dict[str, Any]) -> Any:
    """A stock CogVideoX transformer holding exactly ``mapped_state`` (strict, no random init)."""
    from diffusers import CogVideoXTransformer3DModel

    with torch.device("meta"):
        model = CogVideoXTransformer3DModel(**config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(mapped_state))
    if missing:
        raise UserError(
            f"SAT checkpoint gives no weight for diffusers key {missing[0]!r} ({len(missing)} missing)",
            "The checkpoint is incomplete or not the CogVideoX-2B / RepVideo layout.",
        )
    unexpected = sorted(set(mapped_state) - set(expected))
    if unexpected:
        raise UserError(
            f"SAT checkpoint maps to {unexpected[0]!r}, which the diffusers model does not have",
            "Check num_layers and the other config values against the checkpoint.",
        )
    for key, tensor in mapped_state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise UserError(
                f"SAT weight for {key!r} has shape {tuple(tensor.shape)}, diffusers expects {tuple(expected[key].shape)}",
                "Check the config values against the checkpoint.",
            )
    model.load_state_dict(
        {k: v.contiguous() for k, v in mapped_state.items()}, strict=True, assign=True
    )
    table = diffusers_pos_table(model, config)
    model.patch_embed.register_buffer(
        "pos_embedding", table.to(model.proj_out.weight.dtype), persistent=False
    )
    still_meta = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if still_meta:
        raise RuntimeError(f"converted transformer still has uninitialised tensors: {still_meta}")
    return model


def convert_sat_checkpoint(
    sat_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    config_overrides: dict[str, Any] | None = None,
    torch_dtype: torch.dtype | None = None,
    cache_window: int = PAPER_CACHE_WINDOW,
) -> ConversionReport:
    """Convert a SAT RepVideo checkpoint folder into a RepVideo diffusers folder at ``out_dir``.

    ``config_overrides`` sets diffusers config values the shapes cannot tell (defaults: the
    official CogVideoX-2B settings, SAT_2B_DEFAULTS). ``torch_dtype`` casts the weights (default:
    keep the checkpoint's dtype). Refuses to write over an existing ``out_dir``.
    """
    from repvideo_eval.repvideo.apply import apply_repvideo
    from repvideo_eval.repvideo.gates import set_gates

    out = Path(out_dir)
    if out.exists():
        raise UserError(
            f"output folder {out} already exists",
            "Choose a new folder or delete the old one first.",
        )
    source, iteration = find_checkpoint_file(sat_dir)
    sat_state = load_sat_state_dict(source)
    config = {**SAT_2B_DEFAULTS, **infer_transformer_config(sat_state), **(config_overrides or {})}
    mapped = map_sat_state_dict(sat_state)
    if mapped.gates is None:
        raise UserError(
            f"SAT checkpoint is missing key {SAT_PREFIX + SAT_GATES_KEY!r} (RepVideo's gates)",
            "This looks like a plain CogVideoX checkpoint; RepVideo weights carry learnable_gating.",
        )
    state = mapped.state_dict
    if torch_dtype is not None:
        state = {k: v.to(torch_dtype) for k, v in state.items()}
    model = build_transformer(state, config)
    _check_pos_embedding(mapped.pos_embedding, diffusers_pos_table(model, config))
    if mapped.gates.shape != (config["num_layers"],):
        raise UserError(
            f"SAT key {SAT_PREFIX + SAT_GATES_KEY!r} has shape {tuple(mapped.gates.shape)}, expected ({config['num_layers']},)"
        )
    apply_repvideo(model, cache_window=cache_window)
    set_gates(model, mapped.gates.float())

    try:
        with atomic_dir(out) as folder:
            model.save_pretrained(folder, safe_serialization=True)
    except FileExistsError:
        raise UserError(
            f"output folder {out} appeared while converting (another conversion?)",
            "Choose a new folder or delete the old one first.",
        ) from None
    return ConversionReport(
        out_dir=out,
        source=source,
        iteration=iteration,
        num_tensors=len(sat_state),
        config=config,
        gates=[float(g) for g in mapped.gates.float().tolist()],
        dropped=[SAT_PREFIX + SAT_POS_EMBED_KEY],
        skipped=mapped.skipped,
    )


def is_converted(out_dir: str | os.PathLike[str]) -> bool:
    """True when ``out_dir`` is a finished conversion (written atomically, so presence suffices)."""
    folder = Path(out_dir)
    return (folder / GATES_FILE).is_file() and (folder / "config.json").is_file()


def ensure_converted(
    sat_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], **convert_kwargs: Any
) -> Path:
    """Convert on first use: return ``out_dir``, converting ``sat_dir`` into it if needed."""
    out = Path(out_dir)
    if is_converted(out):
        return out
    if out.exists() and any(out.iterdir()):
        raise UserError(
            f"{out} exists but is not a converted RepVideo folder (no {GATES_FILE} or config.json)",
            "Delete it or point the model card at another conversion folder.",
        )
    if out.exists():
        out.rmdir()
    try:
        convert_sat_checkpoint(sat_dir, out, **convert_kwargs)
    except UserError:
        if is_converted(out):  # another process converted it meanwhile: use theirs
            return out
        raise
    return out
