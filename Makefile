# Two commands do all set-up on a fresh machine:
#   make demo   installs alops with only what the demo needs (from uv.lock) and runs the
#               example project's feature and experiment flows (local DVC remote, no GitLab)
#   make test   installs the locked test environment (and a Label Studio server in its own
#               virtualenv, .cache/label-studio; PyTorch's CPU build for the skeleton's torch
#               model), then runs ruff (lint, format), mypy and pytest
#
# uv comes from PyPI (`python3 -m pip install uv`) when it is not on PATH. Environments are
# built from the committed uv.lock with the machine's python3; uv never downloads a Python.
VENV ?= .venv
PY := $(VENV)/bin/python
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# These machines set PYTHONDONTWRITEBYTECODE=1: compile once at install, not at every start.
export UV_COMPILE_BYTECODE := 1
SYNC = $(UV) sync --frozen --python python3 --quiet

.PHONY: demo test lint bench setup uv clean

demo: $(VENV)/.demo
	$(VENV)/bin/alops demo

test: setup lint
	$(PY) -m pytest

lint: $(VENV)/.test
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check --quiet src tests benchmarks examples
	$(VENV)/bin/mypy

# The benchmarks also need their baselines (the bench group: modAL for al_query.py,
# scikit-activeml for al_kcenter.py).
bench: setup
	$(SYNC) --inexact --all-extras --group test --group lint --group bench
	$(PY) benchmarks/flow_startup.py
	$(PY) benchmarks/feature_pipeline.py
	$(PY) benchmarks/data_pull.py
	$(PY) benchmarks/dvc_starts.py
	$(PY) benchmarks/devset_build.py
	$(PY) benchmarks/pipeline_shape.py
	$(PY) benchmarks/al_query.py
	$(PY) benchmarks/al_kcenter.py
	$(PY) benchmarks/al_simulate.py
	$(PY) benchmarks/matrix_pairwise.py
	$(PY) benchmarks/report_speed.py
	$(PY) benchmarks/serve_speed.py
	$(PY) benchmarks/torch_training.py
	$(PY) benchmarks/doctor_speed.py

setup: $(VENV)/.test node_modules/.installed
	@scripts/ensure-system-tools
	@scripts/ensure-label-studio >/dev/null
	@scripts/ensure-mlflow >/dev/null
	@scripts/ensure-torch

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet --disable-pip-version-check uv

# The demo's environment: alops, scikit-learn and matplotlib (the report's plots), no test tools. --inexact keeps a test
# environment that is already there intact.
$(VENV)/.demo: pyproject.toml uv.lock | uv
	$(SYNC) --inexact --extra example --extra plots --no-default-groups
	touch $@

$(VENV)/.test: pyproject.toml uv.lock | uv
	$(SYNC) --all-extras --group test --group lint
	touch $@ $(VENV)/.demo

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
