#!/usr/bin/env bash
# Run GRiT's real path once: vbench's DenseCaptioning on detectron2, random weights in the
# official checkpoint format (tests/scoring_grit/test_grit_real_path.py, marker `grit`).
#
# Usage: scripts/grit_check.sh DETECTRON2_SRC [VENV_DIR]
#   DETECTRON2_SRC  a local detectron2 source tree (setup.py at its top), e.g. from
#                   `git archive` of github.com/facebookresearch/detectron2; nothing is cloned here.
#   VENV_DIR        the side venv (default: ~/.cache/repvideo-eval/venv-grit), built on first use.
#
# The side venv leaves the project's .venv untouched (detectron2 there is needed only for
# --detector grit-detectron2 and would slow other tests' imports). It has no packages
# of its own except detectron2 and its missing pure-Python deps; the project's .venv
# site-packages (torch 2.14.1 / torchvision 0.29.1, vbench, repvideo_eval editable) are added
# after its own through a .pth that calls site.addsitedir, and pip is the .venv's pip run by the
# side interpreter (so it installs into the side venv). detectron2 is built CPU-only
# (CUDA hidden while building; set GRIT_CHECK_CUDA=1 to let it build its CUDA ops) under
# `nice -n 19` with MAX_JOBS=2. Only PyPI is used (through the ordinary pip client).
# Extra arguments for pytest: GRIT_PYTEST_ARGS (e.g. "-x -s").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${1:?usage: scripts/grit_check.sh DETECTRON2_SRC [VENV_DIR]}"
SRC="$(cd "$SRC" && pwd)"
VENV="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/repvideo-eval/venv-grit}"
BASE="$ROOT/.venv"
PIN=(-c "$ROOT/requirements/constraints.txt")

[[ -f "$SRC/setup.py" && -d "$SRC/detectron2" ]] || { echo "not a detectron2 source tree: $SRC" >&2; exit 2; }
[[ -x "$BASE/bin/python" ]] || { echo "project venv missing: run 'make env' first" >&2; exit 2; }

BASE_SITE="$("$BASE/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
BASE_INTERP="$("$BASE/bin/python" -c 'import sys; print(sys._base_executable)')"
PY="$VENV/bin/python"
STAMP="$VENV/.grit-check-ready"

if [[ ! -f "$STAMP" ]]; then
  "$BASE_INTERP" -m venv --without-pip "$VENV"
  SIDE_SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "import site; site.addsitedir('$BASE_SITE')" > "$SIDE_SITE/zz_repvideo_base_env.pth"
  PIP=(nice -n 19 "$PY" -m pip install -q)
  # The optional GRiT requirements (detectron2's pure-Python deps, boto3), then lvis (imported by
  # vbench's GRiT) without deps: its opencv-python would shadow the .venv's cv2.
  "${PIP[@]}" "${PIN[@]}" -r "$ROOT/requirements/grit.txt"
  "${PIP[@]}" "${PIN[@]}" --no-deps lvis
  BUILD_ENV=(MAX_JOBS="${MAX_JOBS:-2}")
  [[ "${GRIT_CHECK_CUDA:-0}" == "1" ]] || BUILD_ENV+=(CUDA_VISIBLE_DEVICES= FORCE_CUDA=0)
  env "${BUILD_ENV[@]}" "${PIP[@]}" "${PIN[@]}" --no-build-isolation --no-deps "$SRC"
  touch "$STAMP"
fi

"$PY" - <<'PY'
import importlib.metadata as md
import detectron2, detectron2._C  # noqa: F401  (the compiled ops)
versions = {name: md.version(name) for name in ("torch", "torchvision", "detectron2", "fvcore")}
print("grit venv:", versions)
assert versions["torch"].split("+")[0] == "2.14.1" and versions["torchvision"].split("+")[0] == "0.29.1", versions
PY
if "$BASE/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("detectron2") is None)'; then
  echo "warning: detectron2 is importable in $BASE too (only --detector grit-detectron2 uses it)" >&2
fi

cd "$ROOT"
# shellcheck disable=SC2086
exec nice -n 19 "$PY" -m pytest tests/scoring_grit -m grit -q -rs -p no:cacheprovider ${GRIT_PYTEST_ARGS:-}
