# The README's commands. Each target sets up what it needs (the virtual environment included).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck contracts pytest test-postgres schema bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Create the keyring and SQLite database, migrate, load the demo, print tokens, serve on :8000.
run: $(STAMP)
	$(BIN)/casehub demo --host 127.0.0.1 --port 8000

## All quality gates: lint, format, types, layer contracts, schema drift, tests.
test: lint typecheck contracts pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy casehub tests benchmarks

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

## The API suite against PostgreSQL only (CASEHUB_TEST_POSTGRES_URL or the local server).
test-postgres: $(STAMP)
	CASEHUB_REQUIRE_POSTGRES=1 $(BIN)/pytest -m postgres

## Rewrite schema.graphql from the code.
schema: $(STAMP)
	$(BIN)/casehub schema export --output schema.graphql

## Benchmark casehub against its floor on SQLite and PostgreSQL (options: BENCH="--cases 100000").
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) .casehub .pytest_cache .mypy_cache .ruff_cache
