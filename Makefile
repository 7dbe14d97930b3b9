# GitWrite: the commands in README.md. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run demo test install lint typecheck unit bench load clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Packages come only from the lock file (uv.lock); `--locked` fails if it is out of date.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --all-extras --python $(PYTHON)
	touch $@

install: $(VENV)/.synced
	scripts/install-system-packages

# The sync server on the embedded default (SQLite in the data folder; migrates first).
run: install
	$(BIN)/gitwrite-server serve

# A short tour of the engine on a copy of Pride and Prejudice.
demo: install
	$(BIN)/python -m gitwrite.demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

# The load test: a fresh server (embedded default, free loopback port) seeded over REST,
# locust headless with 20 users for 60 s, its statistics, then the server stopped by pid.
# LOAD_ARGS="--users 50 --run-time 120s" to change.
load: install
	$(BIN)/python -m tests.load.run $(LOAD_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
