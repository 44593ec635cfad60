# One venv for everything; `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test check lint typecheck system-deps bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(PY) examples/hello_flow.py

system-deps:
	bash .ci/system-deps.sh

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests examples benchmarks
	$(PY) -m ruff format --check src tests

typecheck: $(VENV)/.installed
	$(PY) -m mypy

test: system-deps $(VENV)/.installed lint typecheck
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .flowlight .pytest_cache .mypy_cache
