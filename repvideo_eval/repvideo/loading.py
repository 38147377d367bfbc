"""Load a RepVideo diffusers folder (from convert-repvideo or ``save_pretrained``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from repvideo_eval.errors import UserError
from repvideo_eval.repvideo.apply import apply_repvideo, repvideo_class_for
from repvideo_eval.repvideo.gates import set_gates
from repvideo_eval.repvideo.model_state import GATES_FILE, read_gates_file


def load_repvideo(
    path: str | os.PathLike[str],
    torch_dtype: torch.dtype | None = None,
    config_overrides: Mapping[str, Any] | None = None,
) -> torch.nn.Module:
    """The saved transformer with RepVideo applied and its gates, window and on/off state restored.

    `config_overrides` replace fields of the saved diffusers config (a card's transformer_config).

    Returns the same object type apply_repvideo produces (e.g.
    ``RepVideoCogVideoXTransformer3DModel``). The folder also loads with the stock diffusers
    class, as a plain model without RepVideo.
    """
    folder = Path(path)
    if not (folder / GATES_FILE).is_file():
        raise UserError(
            f"{folder} is not a RepVideo folder (no {GATES_FILE})",
            "Convert the official checkpoint with `repvideo-eval convert-repvideo SAT_DIR OUT_DIR`, "
            "or save a RepVideo transformer with save_pretrained().",
        )
    gates, meta = read_gates_file(str(folder))
    try:
        subclass = repvideo_class_for(meta["base_class"])
        cache_window = int(meta["cache_window"])
        enabled = bool(json.loads(meta.get("enabled", "true")))
    except (KeyError, ValueError, TypeError) as err:
        raise UserError(
            f"{folder / GATES_FILE} has unreadable RepVideo settings ({err})",
            "Re-create the folder.",
        ) from None
    model = subclass.repvideo_base_class.from_pretrained(
        folder, torch_dtype=torch_dtype, **(config_overrides or {})
    )
    apply_repvideo(model, cache_window=cache_window)
    set_gates(model, gates)
    model.repvideo_enabled = enabled
    return model
