# One venv for everything; `make run` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test check lint typecheck system-deps bench mutation clean stack-binaries stack stack-down

$(VENV)/.installed: pyproject.toml
	@echo "Installing flowlight into $(VENV) (a minute or two the first time)..."
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	@$(PY) examples/hello_flow.py

system-deps:
	bash .ci/system-deps.sh

# TypeScript and Grafana's dashboard types, for the dashboard schema test (tests/ops).
SCHEMA_CHECK := dashboards/schema-check
$(SCHEMA_CHECK)/node_modules/.installed: $(SCHEMA_CHECK)/package.json
	npm install --prefix $(SCHEMA_CHECK) --no-audit --no-fund --no-package-lock --silent
	touch $@

lint: $(VENV)/.installed
	$(PY) -m ruff check src tests examples benchmarks mutation collector-config/stack.py
	$(PY) -m ruff format --check src tests mutation collector-config/stack.py

typecheck: $(VENV)/.installed
	$(PY) -m mypy

# The OpenTelemetry Collector (collector-config/otelcol) and Jaeger v2 (collector-config/jaeger),
# built from the pinned go.mod/go.sum into .stack/bin (git-ignored). A binary is rebuilt only when
# its module files change, and then mostly from Go's build cache: the first build on a machine
# takes minutes, later ones seconds. -mod=readonly: go.sum must already hold every module.
GO ?= go
STACK_BIN := .stack/bin
OTELCOL := $(STACK_BIN)/flowlight-otelcol
JAEGER := $(STACK_BIN)/jaeger
GO_BUILD := GOTOOLCHAIN=local GOFLAGS='-mod=readonly -buildvcs=false' $(GO) build -trimpath -ldflags='-s -w'
NEED_GO = @command -v $(GO) >/dev/null 2>&1 || { echo "error: '$(GO)' not found: the collector and Jaeger are built from Go modules (Go 1.26 or newer, see README)" >&2; exit 1; }

$(OTELCOL): collector-config/otelcol/go.mod collector-config/otelcol/go.sum collector-config/otelcol/main.go
	$(NEED_GO)
	cd collector-config/otelcol && $(GO_BUILD) -o $(abspath $@) .

$(JAEGER): collector-config/jaeger/go.mod collector-config/jaeger/go.sum
	$(NEED_GO)
	cd collector-config/jaeger && $(GO_BUILD) -o $(abspath $@) github.com/jaegertracing/jaeger/cmd/jaeger

stack-binaries: $(OTELCOL) $(JAEGER)

# Collector, Jaeger, Prometheus and Alertmanager as local processes on 127.0.0.1 (see README).
stack: system-deps $(VENV)/.installed stack-binaries
	$(PY) collector-config/stack.py up

stack-down: $(VENV)/.installed
	$(PY) collector-config/stack.py down

test: system-deps $(VENV)/.installed $(SCHEMA_CHECK)/node_modules/.installed stack-binaries lint typecheck
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
	rm -rf $(VENV) .flowlight .pytest_cache .mypy_cache .mutmut-cache .stack/run
