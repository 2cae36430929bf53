# The README's commands. Each target sets up what it needs (the virtual environment included).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every package, the tools included, comes from a lock with hashes (`make lock` writes both):
# dev.lock for this venv, runtime.lock (a subset, same versions) for what the server alone needs.
DEV_LOCK := requirements/dev.lock
RUNTIME_LOCK := requirements/runtime.lock

.PHONY: run run-federated test lint typecheck contracts validate-deploy pytest test-postgres schema bench \
  bench-scaling bench-federation lock sbom audit clean test-fast client

# A changed lock (or pyproject.toml) reinstalls. casehub itself goes in without dependencies and
# without build isolation (setuptools is in the lock too); `pip check` then fails when
# pyproject.toml asks for something the lock lacks: run `make lock`.
$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $(STAMP)

# Resolved against the package index alone, for every platform (markers), Python 3.11. The versions already
# locked are kept unless pyproject.toml's bounds exclude them; to upgrade, e.g.
# `make lock LOCK_FLAGS=--upgrade` or `LOCK_FLAGS="--upgrade-package strawberry-graphql"`.
LOCK_FLAGS ?=
UV_COMPILE = $(BIN)/uv pip compile --no-config --quiet --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command 'make lock' \
  $(LOCK_FLAGS)

## Re-resolve the locks after a change to pyproject.toml's dependencies.
lock:
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK); }
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -o $(DEV_LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(DEV_LOCK) -o $(RUNTIME_LOCK)
	$(UV_COMPILE) deploy/sbom.in -o deploy/sbom.lock
	$(UV_COMPILE) requirements/codegen.in -o requirements/codegen.lock

## Create the keyring and SQLite database, migrate, load the demo, print tokens, serve on :8000.
run: $(STAMP)
	$(BIN)/casehub demo --host 127.0.0.1 --port 8000

## Two peered hubs on loopback, MY (:8000) and FR (:8001), each with its own keyring and SQLite
## database under ./.casehub/federated/; prints tokens and example queries; Ctrl-C stops both.
run-federated: $(STAMP)
	$(BIN)/casehub demo --federated --host 127.0.0.1 --port 8000

## All quality gates: lint, format, types, layer contracts, schema drift, tests.
test: lint typecheck contracts validate-deploy sbom pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy casehub tests benchmarks docs/examples

contracts: $(STAMP)
	$(BIN)/lint-imports

# The deployment validators have a virtual environment of their own: they are heavy, and no
# part of casehub's dependencies.
VENV_DEPLOY := .venv-deploy
BIN_DEPLOY := $(VENV_DEPLOY)/bin
STAMP_DEPLOY := $(VENV_DEPLOY)/.installed-stamp
RENDERED := $(VENV_DEPLOY)/rendered

$(STAMP_DEPLOY): deploy/requirements-validate.txt
	$(PYTHON) -m venv $(VENV_DEPLOY)
	$(BIN_DEPLOY)/pip install --quiet --upgrade pip
	$(BIN_DEPLOY)/pip install --quiet -r deploy/requirements-validate.txt
	touch $(STAMP_DEPLOY)

## Lint the image, the compose file and the Kubernetes manifests (base and overlays, rendered
## with kubectl's kustomize, against the Kubernetes 1.31 and 1.37 API schemas); offline.
validate-deploy: $(STAMP_DEPLOY)
	$(BIN_DEPLOY)/hadolint deploy/Dockerfile
	$(BIN_DEPLOY)/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
	mkdir -p $(RENDERED)
	$(BIN_DEPLOY)/kubectl kustomize deploy/k8s/base > $(RENDERED)/base.yaml
	$(BIN_DEPLOY)/kubectl kustomize deploy/k8s/overlays/production > $(RENDERED)/production.yaml
	$(BIN_DEPLOY)/kubernetes-validate --strict --quiet -k 1.31.0 $(RENDERED)/*.yaml
	$(BIN_DEPLOY)/kubernetes-validate --strict --quiet -k 1.37.0 $(RENDERED)/*.yaml
# checkov renders the kustomizations itself, with the first kubectl on PATH: this one.
	PATH="$(CURDIR)/$(BIN_DEPLOY):$$PATH" $(BIN_DEPLOY)/checkov --quiet --compact --skip-download \
	  --directory deploy --framework dockerfile kustomize secrets --enable-secret-scan-all-files

# The SBOM generator, from the same hashed lock as the image build's (deploy/sbom.in says why
# it has a venv of its own).
VENV_SBOM := $(VENV_DEPLOY)/sbom
STAMP_SBOM := $(VENV_SBOM)/.installed-stamp
SBOM ?= dist/sbom.cdx.json

$(STAMP_SBOM): deploy/sbom.lock
	$(PYTHON) -m venv $(VENV_SBOM)
	$(VENV_SBOM)/bin/pip install --quiet --require-hashes -r deploy/sbom.lock
	touch $(STAMP_SBOM)

## CycloneDX SBOM (validated against the schema, offline) of what the image installs:
## casehub and runtime.lock. The image carries its own, /usr/share/doc/casehub/sbom.cdx.json.
sbom: $(STAMP_SBOM)
	mkdir -p $(dir $(SBOM))
	$(VENV_SBOM)/bin/cyclonedx-py requirements --pyproject pyproject.toml --output-reproducible \
	  -o $(SBOM) $(RUNTIME_LOCK)

# pypi: the package index's JSON API; osv: the OSV database. --strict fails on a package the
# service could not look up, which would otherwise pass as "no known vulnerabilities".
AUDIT_SERVICE ?= pypi
## Known vulnerabilities of runtime.lock's packages; needs the service's API (not in `make test`).
audit: $(STAMP_DEPLOY)
	$(BIN_DEPLOY)/pip-audit --strict --disable-pip --require-hashes -r $(RUNTIME_LOCK) \
	  --vulnerability-service $(AUDIT_SERVICE)

# ariadne-codegen has a virtual environment of its own, from a hashed lock
# (requirements/codegen.in says why).
VENV_CODEGEN := .venv-codegen
STAMP_CODEGEN := $(VENV_CODEGEN)/.installed-stamp
CODEGEN_LOCK := requirements/codegen.lock

$(STAMP_CODEGEN): $(CODEGEN_LOCK)
	$(PYTHON) -m venv $(VENV_CODEGEN)
	$(VENV_CODEGEN)/bin/pip install --quiet --require-hashes -r $(CODEGEN_LOCK)
	touch $(STAMP_CODEGEN)

## Regenerate the Python client's typed operations (casehub/client/generated/, committed) from
## schema.graphql and casehub/client/operations.graphql ([tool.ariadne-codegen]).
client: $(STAMP_CODEGEN)
	rm -rf casehub/client/generated
	$(VENV_CODEGEN)/bin/ariadne-codegen --config pyproject.toml

# pytest-xdist workers, each with its own SQLite files, PostgreSQL databases and ports; one test
# file stays on one worker, so a module's fixtures (servers, nginx, seeded databases) are built
# once. PYTEST_WORKERS=auto takes one per core (mind PostgreSQL's 100 connections), 0 runs serially.
PYTEST_WORKERS ?= 2
PYTEST = $(BIN)/pytest --numprocesses $(PYTEST_WORKERS) --dist loadfile --durations=10

pytest: $(STAMP)
	$(PYTEST)

## The inner loop: ruff and the suite on SQLite only (no PostgreSQL, no mypy, no deploy/ validators).
test-fast: lint
	$(PYTEST) -m "not postgres"

## The API suite against PostgreSQL only (CASEHUB_TEST_POSTGRES_URL or the local server).
test-postgres: $(STAMP)
	CASEHUB_REQUIRE_POSTGRES=1 $(PYTEST) -m postgres

## Rewrite schema.graphql from the code.
schema: $(STAMP)
	$(BIN)/casehub schema export --output schema.graphql

## Benchmark casehub against its floor on SQLite and PostgreSQL (options: BENCH="--cases 100000").
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH)

## Write scaling on PostgreSQL: casehub as 1 and 2 replicas against a lock-free floor, at 16 and
## 64 connections, with PostgreSQL's lock waits sampled (options: BENCH="--duration 5").
bench-scaling: $(STAMP)
	$(BIN)/python -m benchmarks --scaling $(BENCH)

## Messages per second through one federation outbox to a served peer hub, and the latency from
## queued to acknowledged, on SQLite and PostgreSQL (options: BENCH="--federation-messages 500").
bench-federation: $(STAMP)
	$(BIN)/python -m benchmarks --federation $(BENCH)

clean:
	rm -rf $(VENV) $(VENV_DEPLOY) .venv-codegen dist .casehub .pytest_cache .mypy_cache .ruff_cache
