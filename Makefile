# caresheet task file: CI runs these same targets (.ci/run -> make test).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# python3.11 if present, else python3 when it is 3.11 or newer.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || \
	(python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && command -v python3))
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The suite runs on every core (at most 4 processes): each test makes its own databases and ports.
PYTEST_ARGS ?= -n auto --maxprocesses=4

.PHONY: help venv system-deps node-deps run test lint bench clean

help:
	@echo "make run          install into .venv, create the SQLite library, serve http://127.0.0.1:8000"
	@echo "make test         install everything and run lint + the whole suite"
	@echo "make lint         ruff + mypy --strict"
	@echo "make bench        run every bench/*.py"
	@echo "make venv         create/refresh .venv (only when pyproject.toml changed)"
	@echo "make system-deps  Debian packages (Chromium, poppler, fonts, Pango)"
	@echo "make clean        remove .venv, node_modules, caches and build output"

venv: $(STAMP)

# Re-installs only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.11 or newer is needed (python3.11 or python3)." >&2; exit 1; fi
	@[ -x $(VPY) ] || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

node-deps: $(NODE_STAMP)

# Test tools only (axe-core, the FHIR R4 JSON schema); again only when the lock file changed.
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

run: venv
	$(VENV)/bin/caresheet init
	$(VENV)/bin/caresheet serve --host 127.0.0.1 --port 8000

test: system-deps venv node-deps lint
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check src tests $(wildcard bench)
	$(VENV)/bin/mypy --strict src/caresheet

bench: venv
	@shopt -s nullglob; files=(bench/[!_]*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/"; exit 0; fi; \
	for f in "$${files[@]}"; do echo "== $$f"; $(VPY) "$$f" || exit 1; done

clean:
	rm -rf $(VENV) node_modules dist build .pytest_cache .mypy_cache .ruff_cache bench/data
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -exec rm -rf {} +
