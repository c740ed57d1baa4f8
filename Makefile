# HARMONY Catalogue — `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
WORKERS ?= 2
STAMP  := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# The base of every published IRI when BASE_URL is not set: the web server's address, as
# core.config.default_base_url makes it from HOST and PORT. `make run` passes it to both
# processes, because honcho gives each process of the Procfile its own PORT (the job worker's
# is PORT+100), and the worker's exports must name the same IRIs as the web server.
RUN_BASE_URL = $(or $(BASE_URL),$(shell HOST='$(HOST)' PORT='$(PORT)' $(BIN)/python -c 'from core.config import default_base_url; print(default_base_url())'))

.DEFAULT_GOAL := help
.PHONY: help install run worker serve migrate demo test test-pg lint format migration bench clean

help: ## Show the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	@# uv installs the same packages from the same index in a quarter of pip's time (12 s, not
	@# 43 s, with a warm cache); pip does it where uv cannot
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e '.[dev]' \
	  || $(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its test and lint tools

migrate: $(STAMP) ## Bring the database (DATABASE_URL, default instance/harmony.sqlite3) up to date
	$(BIN)/harmony db upgrade

demo: migrate ## Load the bundled vocabularies, and the demo data when the database is empty
	$(BIN)/harmony ontologies load-bundled
	$(BIN)/harmony demo load --if-empty

run: demo ## Install, migrate, load demo data when empty, serve on http://$(HOST):$(PORT) with the job worker
	@echo "Serving HARMONY Catalogue on http://$(HOST):$(PORT) with its job worker (Ctrl-C stops both); IRIs under $(RUN_BASE_URL)"
	HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) BASE_URL='$(RUN_BASE_URL)' $(BIN)/honcho start -f Procfile

worker: migrate ## Run the job worker alone (imports, loads, exports, periodic tasks) until Ctrl-C
	$(BIN)/harmony jobs worker

lint: $(STAMP) ## ruff (lint, format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## ruff: fix what can be fixed and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint ## Lint and run every test (PostgreSQL when TEST_DATABASE_URL is set)
	$(BIN)/pytest

test-pg: ## The same suite on the local PostgreSQL ($(PG_TEST_URL))
	TEST_DATABASE_URL=$(PG_TEST_URL) $(MAKE) test

mutate: $(STAMP) ## Mutation testing of the rule modules (mutmut, slow, not in CI): make mutate [m="catalogue.counts*"]
	$(BIN)/mutmut run $(m)
	$(BIN)/mutmut results

migration: $(STAMP) ## Write a migration for model changes: make migration m="what changed"
	@test -n "$(m)" || (echo 'usage: make migration m="what changed"'; exit 2)
	$(BIN)/harmony db revision -m "$(m)"

clean: ## Remove caches (keeps .venv and the database under instance/)
	rm -rf .pytest_cache .ruff_cache tests/e2e/screenshots mutants
	find . -name __pycache__ -prune -not -path './.venv/*' -exec rm -rf {} +
