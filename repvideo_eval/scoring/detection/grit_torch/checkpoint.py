"""Reading GRiT's official checkpoint into the port: every key and shape checked.

The file is detectron2's layout, `{"model": state_dict, ...}`, read with
`torch.load(weights_only=True)`. The port's module names are the checkpoint's, so the state dict
loads verbatim, after these documented exceptions:

* IGNORED_PREFIXES: the mask head (`roi_heads.mask_head.*`), which vbench's model runs but whose
  masks nothing reads.
* `roi_heads.text_decoder_det.*`: vbench's ObjectDet decoder is the *same module object* as
  `roi_heads.text_decoder` (built from one `text_decoder_transformer`), so a file saved from
  vbench's model holds every decoder tensor twice, and a file saved from GRiT's own code (the
  official one, presumably) only once. Both are accepted.
* The output projection is tied to the word embeddings (one tensor, two keys).

Where one tensor has several keys, the value used is the one PyTorch's `load_state_dict` leaves
in vbench's model: modules are visited in registration order (`text_decoder` before
`text_decoder_det`, `embedding.words` before `output`), so the last key present wins.
Anything else (a key the port does not know, a missing key, a shape that differs) is a
`UserError` naming the first offenders; nothing is loaded half-way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from repvideo_eval.errors import UserError

IGNORED_PREFIXES: tuple[str, ...] = ("roi_heads.mask_head.",)
DECODER = "roi_heads.text_decoder."
DECODER_DET = "roi_heads.text_decoder_det."
WORDS = "textual.embedding.words.weight"
OUTPUT = "textual.output.weight"


def source_keys(key: str) -> tuple[str, ...]:
    """File keys that load into the port's `key`, in vbench's load order (the last present wins)."""
    if not key.startswith(DECODER):
        return (key,)
    local = key[len(DECODER) :]
    if local in (WORDS, OUTPUT):
        return tuple(prefix + name for prefix in (DECODER, DECODER_DET) for name in (WORDS, OUTPUT))
    return (DECODER + local, DECODER_DET + local)


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict of a GRiT `.pth` file, read with `torch.load(weights_only=True)`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(
            f"GRiT checkpoint {path} does not exist.",
            "Run `repvideo-eval fetch-weights --dimensions object_class` to download it.",
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle refusals and truncated files alike
        raise UserError(
            f"GRiT checkpoint {path} cannot be read as a weights-only torch file ({type(exc).__name__}).",
            "Delete it and run `repvideo-eval fetch-weights --dimensions object_class` again.",
        ) from None
    state = data.get("model", data) if isinstance(data, dict) else None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise UserError(
            f"GRiT checkpoint {path} holds no state dict (expected detectron2's {{'model': ...}}).",
            "Delete it and run `repvideo-eval fetch-weights --dimensions object_class` again.",
        )
    return dict(state)


def _names(keys: list[str], limit: int = 3) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def resolve_state_dict(
    state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Size]
) -> dict[str, torch.Tensor]:
    """Map a GRiT state dict onto the port's keys; UserError on any unknown, missing or misshaped key."""
    fix = "This is not GRiT-B DenseCap+ObjectDet (grit_b_densecap_objectdet.pth) as vbench 0.1.5 loads it"
    used: set[str] = set()
    resolved: dict[str, torch.Tensor] = {}
    missing, misshaped = [], []
    for key, shape in expected.items():
        present = [name for name in source_keys(key) if name in state]
        used.update(present)
        if not present:
            missing.append(key)
            continue
        for name in present:
            if tuple(state[name].shape) != tuple(shape):
                misshaped.append(f"{name} {tuple(state[name].shape)} != {tuple(shape)}")
        resolved[key] = state[present[-1]]
    unknown = sorted(
        key for key in state if key not in used and not key.startswith(IGNORED_PREFIXES)
    )
    if missing:
        raise UserError(f"GRiT checkpoint lacks {len(missing)} tensors ({_names(missing)})", fix)
    if misshaped:
        raise UserError(f"GRiT checkpoint has wrong shapes: {_names(misshaped)}", fix)
    if unknown:
        raise UserError(
            f"GRiT checkpoint has {len(unknown)} unknown tensors ({_names(unknown)})", fix
        )
    return {key: value.to(torch.float32) for key, value in resolved.items()}
