"""Writes the DINOv2 hub-code fixture: a tiny `dinov2_vitb14`, one input and its output.

VBench-Long loads DINOv2 through torch.hub (facebookresearch/dinov2), code that is not on PyPI.
This script runs that code once, from a local checkout, and stores what the fast test compares
against (`test_fast_consistency.py::test_dinov2_matches_the_hub_code_fixture`), so the test runs on
every machine without the checkout. Rerun it only to refresh the fixture:

    python tests/scoring_protocols/make_dinov2_hub_fixture.py /path/to/dinov2-checkout

(the folder that holds `dinov2/`; e.g. `git clone https://github.com/facebookresearch/dinov2`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "data" / "dinov2_hub_tiny.safetensors"
STATE_PREFIX = "state."
#: Input side: 7x7 patches of 14 px, so the position table (37x37) is interpolated as at 224 px.
INPUT_SHAPE = (2, 3, 98, 98)


def build_fixture(checkout: Path) -> dict[str, torch.Tensor]:
    """The hub model's perturbed state (prefixed), a seeded input and the hub model's output."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(checkout))
    os.environ.setdefault("XFORMERS_DISABLED", "1")
    from fast_models_fixture import TINY_DINOV2, hub_dinov2_vitb14

    torch.manual_seed(1)
    model = hub_dinov2_vitb14(TINY_DINOV2).eval()
    with torch.no_grad():
        for param in model.parameters():  # off the init, so every tensor matters
            param.add_(torch.randn_like(param) * 0.05)
        x = torch.randn(*INPUT_SHAPE)
        output = model(x)
    tensors = {STATE_PREFIX + k: v.contiguous() for k, v in model.state_dict().items()}
    tensors.update(input=x.contiguous(), output=output.contiguous())
    return tensors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="folder holding the dinov2 package")
    args = parser.parse_args()
    from repvideo_eval.atomic import write_with_atomic

    tensors = build_fixture(args.checkout)
    metadata = {"model": "dinov2_vitb14(pretrained=False)", "input_shape": json.dumps(INPUT_SHAPE)}
    write_with_atomic(FIXTURE, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
    print(f"wrote {FIXTURE} ({len(tensors)} tensors)")


if __name__ == "__main__":
    main()
