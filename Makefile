# Two commands do everything on a fresh machine: `make demo` and `make test`.
# The environment (.venv) is created on first use; torch stays pinned (requirements/constraints.txt).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.repvideo-eval-installed
PIN    := -c requirements/constraints.txt
TORCH  ?= torch==2.14.1 torchvision==0.29.1
export RAY_AUTH_MODE ?= disabled
export RAY_USAGE_STATS_ENABLED ?= 0
export HF_HUB_DISABLE_TELEMETRY ?= 1

.PHONY: env demo lint chromium test test-slow grit-check grit-golden grit-bench bench gpu-check gpu-check-cpu clean-env vbench-reference-env

env: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt requirements/vbench-nodeps.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(PIN) $(TORCH)
	$(PIP) install -q $(PIN) -e ".[test]"
	$(PIP) install -q $(PIN) --no-deps -r requirements/vbench-nodeps.txt
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) run_eval.py --model cogvideox-tiny,repvideo-tiny --suite smoke --output-dir results/runs/demo

# Lint and types first (zero findings), then the fast suite over TEST_WORKERS processes
# (pytest-xdist, one test file per process at a time so module fixtures are built once):
# two processes halve the suite on 2 cores, since much of it waits on subprocesses it starts.
# TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: $(STAMP) lint chromium
	$(PY) -m pytest -m "not slow" -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy repvideo_eval

# The gallery test needs a headless Chromium: installed here when missing (apt-get, as root).
chromium:
	@scripts/ensure_chromium.sh

# Heavy cases: full-size random-weight VBench parity (incl. the reference venv with vbench's own
# pins for human_action and scene), multi-node Ray, driver kills. Not part of CI's time budget.
test-slow: $(STAMP) vbench-reference-env
	$(PY) -m pytest -m "slow and not grit" -q

# The real GRiT path (needs detectron2, not on PyPI): builds a side venv with detectron2 from a
# local source tree and runs tests/scoring_grit there. make grit-check DETECTRON2_SRC=/path/to/detectron2
grit-check: $(STAMP)
	@test -n "$(DETECTRON2_SRC)" || { echo "grit-check: set DETECTRON2_SRC to a detectron2 source tree (git clone https://github.com/facebookresearch/detectron2)"; exit 2; }
	scripts/grit_check.sh "$(DETECTRON2_SRC)"

# After grit-check built the side venv: rewrite tests/scoring_grit/golden_grit_b.json (vbench's
# detectron2 GRiT on the golden frames; SEED=n tries another seed) / time the port against it.
GRIT_PY ?= $(HOME)/.cache/repvideo-eval/venv-grit/bin/python
grit-golden:
	PYTHONPATH=. $(GRIT_PY) scripts/grit_golden.py --seed $(or $(SEED),0)
grit-bench:
	PYTHONPATH=. $(GRIT_PY) benchmarks/grit_speed.py

# A second venv where vbench 0.1.5 runs with its own stale pins (numpy<2, transformers 4.33.2).
vbench-reference-env:
	scripts/vbench_reference_env.sh

bench: $(STAMP)
	$(PY) benchmarks/repvideo_overhead.py
	$(PY) benchmarks/ray_scaling.py
	$(PY) benchmarks/scoring_throughput.py

# Real scale on one GPU, no network, <= 8 minutes: random twins at 49x480x720, eager and compiled,
# memory per option, harness vs bare diffusers, scoring vs vbench. Report under benchmarks/gpu/.
gpu-check: $(STAMP)
	$(PY) benchmarks/gpu_check.py --device cuda

# The same script at small sizes on a CPU (< 10 minutes), so it is proven before a GPU sees it.
gpu-check-cpu: $(STAMP)
	$(PY) benchmarks/gpu_check.py --device cpu --families all --scoring-args "$(GPU_CHECK_CPU_SCORING)"

GPU_CHECK_CPU_SCORING ?= --videos 1 --frames 8 --dimensions subject_consistency,motion_smoothness

clean-env:
	rm -rf $(VENV)
