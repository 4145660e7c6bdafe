# Two commands do all set-up on a fresh machine:
#   make demo   runs the example project's feature and experiment flows (local DVC remote, no GitLab)
#   make test   installs what the tests need and runs them
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test bench setup clean

demo: $(VENV)/.installed
	$(VENV)/bin/alops demo

test: setup
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/flow_startup.py
	$(PY) benchmarks/feature_pipeline.py
	$(PY) benchmarks/data_pull.py
	$(PY) benchmarks/devset_build.py

setup: $(VENV)/.installed node_modules/.installed
	@scripts/ensure-system-tools

$(VENV)/.installed: pyproject.toml
	@# An existing venv is reused: re-running venv with another python3 would break it.
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache
