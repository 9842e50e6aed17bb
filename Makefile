# Item OMS: `make run` serves the API on http://$(OMS_HOST):$(OMS_PORT); `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

OMS_HOST ?= 127.0.0.1
OMS_PORT ?= 8000
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: help install run test lint test-sqlite test-postgres bench clean

help:
	@echo "make run    install, migrate ./var/oms.db, load the demo on first start, serve on http://$(OMS_HOST):$(OMS_PORT)"
	@echo "make test   install, then ruff, mypy --strict, import-linter and the suite on SQLite and PostgreSQL"

.tools/bin/uv:
	@echo "uv not found: installing it into .tools/ with pip"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(BIN)/oms: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $(BIN)/oms

install: $(BIN)/oms

run: install
	@mkdir -p var
	OMS_LOAD_DEMO=$${OMS_LOAD_DEMO:-true} OMS_DEMO_SIMULATE=$${OMS_DEMO_SIMULATE:-true} $(BIN)/oms serve --host $(OMS_HOST) --port $(OMS_PORT)

lint: install
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test-sqlite: install
	@echo "== Test suite on SQLite =="
	OMS_TEST_BACKEND=sqlite $(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS)

test-postgres: install
	@echo "== Test suite on PostgreSQL =="
	@if $(BIN)/python tests/postgres_available.py; then \
		OMS_TEST_BACKEND=postgresql $(BIN)/pytest -n 2 --dist loadfile $(PYTEST_ARGS); \
	elif [ "$${OMS_TEST_REQUIRE_POSTGRES:-0}" = "1" ]; then \
		echo "FAILED: PostgreSQL is required (OMS_TEST_REQUIRE_POSTGRES=1) but no server answers"; exit 1; \
	else \
		echo "SKIPPED: the PostgreSQL half of the suite did not run (no server at OMS_TEST_POSTGRES_URL)"; \
	fi

test: lint test-sqlite test-postgres

bench: install
	$(BIN)/python bench/import_items.py

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache
