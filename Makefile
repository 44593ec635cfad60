# One venv for everything; `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test check lint typecheck system-deps bench mutation clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(PY) examples/hello_flow.py

system-deps:
	bash .ci/system-deps.sh

# TypeScript and Grafana's dashboard types, for the dashboard schema test (tests/ops).
SCHEMA_CHECK := dashboards/schema-check
$(SCHEMA_CHECK)/node_modules/.installed: $(SCHEMA_CHECK)/package.json
	npm install --prefix $(SCHEMA_CHECK) --no-audit --no-fund --no-package-lock --silent
	touch $@

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests examples benchmarks mutation
	$(PY) -m ruff format --check src tests mutation

typecheck: $(VENV)/.installed
	$(PY) -m mypy

test: system-deps $(VENV)/.installed $(SCHEMA_CHECK)/node_modules/.installed lint typecheck
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m benchmarks

# Mutation testing (slow, not part of `make test`): `make mutation` scores every module listed in
# mutation/score.py; `make mutation MODULE=src/flowlight/triggers.py` scores one.
MODULE ?=
mutation: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[mutation]'
	$(PY) mutation/score.py run $(MODULE)

clean:
	rm -rf $(VENV) .flowlight .pytest_cache .mypy_cache .mutmut-cache
