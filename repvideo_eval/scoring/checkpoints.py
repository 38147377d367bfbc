"""Load checkpoint files without running pickled code.

* `.pth` state dicts: `torch.load(weights_only=True)`, with numpy scalar/dtype types allowed
  (some research checkpoints store an epoch counter as a numpy scalar; nothing else is allowed).
* OpenAI CLIP files are TorchScript archives, which `torch.load` cannot read with
  `weights_only=True`. They are read once with `torch.jit.load` (TorchScript deserialisation,
  no Python pickle execution) and converted to `<name>.safetensors` beside the original; the
  conversion records the source sha256 in the safetensors metadata and is redone if the
  source changes. Later sessions read only the safetensors file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from repvideo_eval.atomic import write_with_atomic
from repvideo_eval.errors import UserError


def _numpy_safe_globals() -> list[Any]:
    import numpy as np

    allowed: list[Any] = [np.dtype]
    for module_name in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            module = __import__(module_name, fromlist=["scalar"])
            allowed.append(module.scalar)
            break
        except (ImportError, AttributeError):
            continue
    for dtype_name in ("Float64DType", "Float32DType", "Int64DType", "Int32DType"):
        dtype_cls = getattr(getattr(np, "dtypes", None), dtype_name, None)
        if dtype_cls is not None:
            allowed.append(dtype_cls)
    return allowed


def load_state_file(path: Path) -> Any:
    """`torch.load(path, weights_only=True)` on CPU; UserError when the file needs pickled code."""
    try:
        with torch.serialization.safe_globals(_numpy_safe_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError (zip), EOFError
        raise UserError(
            f"Cannot load {path} with weights_only=True ({type(exc).__name__}: {str(exc).splitlines()[0][:160]}).",
            "The file is corrupt or holds pickled objects; delete it and fetch it again",
        ) from None


def clean_prefix(
    state_dict: dict[str, torch.Tensor], prefix: str = "module."
) -> dict[str, torch.Tensor]:
    """Drop a DataParallel-style `module.` prefix (vbench does `k.replace('module.', '')`)."""
    return {k.replace(prefix, ""): v for k, v in state_dict.items()}


def torchscript_state_dict(path: Path, source_sha256: str) -> dict[str, torch.Tensor]:
    """State dict of a TorchScript archive, via a cached safetensors copy beside it."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    converted = path.with_suffix(".safetensors")
    if converted.is_file():
        try:
            with safe_open(str(converted), framework="pt") as handle:
                if (handle.metadata() or {}).get("source_sha256") == source_sha256:
                    return {key: handle.get_tensor(key) for key in handle.keys()}
        except Exception:
            pass  # stale or broken conversion: redo it below
    try:
        archive = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise UserError(
            f"Cannot read TorchScript archive {path} ({type(exc).__name__}).",
            "Delete it and fetch it again",
        ) from None
    state = {k: v.detach().clone().contiguous() for k, v in archive.state_dict().items()}
    del archive
    metadata = {"source_sha256": source_sha256, "source": path.name}
    try:
        write_with_atomic(converted, lambda tmp: save_file(state, str(tmp), metadata=metadata))
    except OSError:
        pass  # read-only cache: keep working from memory
    return state
