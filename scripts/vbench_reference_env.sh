#!/usr/bin/env bash
# Create a separate "reference" venv where vbench 0.1.5 runs with its OWN pins
# (transformers==4.33.2, numpy<2), so the two dimensions whose vbench modules do not import
# beside the project's modern stack can still be run as vbench wrote them:
#   * human_action: vbench/third_party/umt/datasets/kinetics.py needs numpy<2
#     (`from numpy.lib.function_base import disp`);
#   * scene: vbench/third_party/tag2Text/med.py needs transformers<4.50-ish
#     (`find_pruneable_heads_and_indices`, `PreTrainedModel.generate`).
# The parity tests (tests/scoring_semantic, marked slow) call
# scripts/vbench_reference_runner.py with this venv's python and compare per-video JSON.
#
# Usage: scripts/vbench_reference_env.sh [VENV_DIR]   (default: .venv-vbench-ref at the repo root)
# torch/torchvision come from the same pins as the project (requirements/constraints.txt), so
# both sides run the same kernels; everything else is vbench's requirements.txt pins.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$ROOT/.venv-vbench-ref}"
PYTHON="${PYTHON:-python3}"
PIN=(-c "$ROOT/requirements/constraints.txt")

if [[ -f "$VENV/.vbench-reference-ready" ]]; then
  echo "reference venv ready: $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q)
"${PIP[@]}" "${PIN[@]}" "torch==2.14.1" "torchvision==0.29.1"
# vbench 0.1.5's own pins (its wheel METADATA), minus detectron2 (not on PyPI) and the
# packages only the GRiT/pyiqa/eval-toolkit paths need.
"${PIP[@]}" "${PIN[@]}" \
  "numpy<2.0.0" "transformers==4.33.2" "timm>=0.9,<=1.0.12" "setuptools<81" \
  "opencv-python-headless<4.11" decord Pillow scipy pyyaml easydict omegaconf einops \
  "fairscale>=0.4.4" ftfy regex tqdm imageio
"${PIP[@]}" "${PIN[@]}" --no-deps vbench==0.1.5 openai-clip==1.0.1
"$VENV/bin/python" - <<'PY'
import numpy, transformers, torch
import vbench.third_party.umt.models.modeling_finetune  # noqa: F401  (human_action's model)
print("reference venv: numpy", numpy.__version__, "transformers", transformers.__version__, "torch", torch.__version__)
PY
touch "$VENV/.vbench-reference-ready"
echo "reference venv ready: $VENV"
