# The front door. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
HOST ?= 0.0.0.0
PORT ?= 8100
export HOST PORT

# uv from PATH, else the one pip installed for $(PYTHON) (`make install` puts it there).
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen --no-sync
STAMP := .venv/.carpulse-installed

TEST_DATABASE_URL ?= $(or $(CARPULSE_TEST_DATABASE_URL),postgresql+asyncpg://postgres@127.0.0.1:5432/test)
TEST_REDIS_URL ?= $(or $(CARPULSE_TEST_REDIS_URL),redis://127.0.0.1:6379/15)
# pytest-xdist workers (one per core by default; each gets a PostgreSQL database of its own) and the
# slowest tests every run prints.
TEST_WORKERS ?= auto
PYTEST_ARGS ?= -n $(TEST_WORKERS) --durations=10

.PHONY: help install run migrate check test test-server test-embedded fuzz services system-packages bench soak screenshots format clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || { \
		echo "installing uv with pip"; \
		$(PYTHON) -m pip install --quiet uv || $(PYTHON) -m pip install --quiet --user uv; }
	$(UV) sync --frozen
	@touch $@

install: $(STAMP) ## install uv (if missing) and every dependency from uv.lock

migrate: install ## apply database migrations
	$(RUN) carpulse migrate

run: install migrate ## serve the API on http://localhost:$(PORT) with the embedded defaults
	@echo "Car Pulse on http://localhost:$(PORT) — development mail (sign-up links) is kept at http://localhost:$(PORT)/_sandbox/mail"
	$(RUN) carpulse serve --host $(HOST) --port $(PORT)

check: install ## formatting, lint, types, import contracts
	$(RUN) ruff format --check src tests bench migrations
	$(RUN) ruff check src tests bench migrations
	$(RUN) mypy
	$(RUN) lint-imports --no-cache

services: ## start PostgreSQL and Redis when they are down
	@scripts/services.sh

system-packages: ## install the Debian packages the suite needs (debian-packages.txt) when missing
	@scripts/system-packages.sh

test-server: install services system-packages ## the suite on real PostgreSQL and Redis
	CARPULSE_TEST_BACKEND=server CARPULSE_TEST_DATABASE_URL=$(TEST_DATABASE_URL) CARPULSE_TEST_REDIS_URL=$(TEST_REDIS_URL) \
		$(RUN) pytest $(PYTEST_ARGS)

test-embedded: install system-packages ## the suite on SQLite and in-process stores (the tests that touch the backend)
	CARPULSE_TEST_BACKEND=embedded $(RUN) pytest $(PYTEST_ARGS) -m "not server"

test: check test-server test-embedded ## check, then the suite on both backends

FUZZ_EXAMPLES ?= 500
fuzz: install services ## nightly-sized schemathesis run: FUZZ_EXAMPLES (500) per operation, on both backends
	CARPULSE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CARPULSE_TEST_BACKEND=server CARPULSE_TEST_DATABASE_URL=$(TEST_DATABASE_URL) \
		CARPULSE_TEST_REDIS_URL=$(TEST_REDIS_URL) $(RUN) pytest tests/test_schemathesis.py
	CARPULSE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CARPULSE_TEST_BACKEND=embedded $(RUN) pytest -m "not server" tests/test_schemathesis.py

screenshots: install services system-packages ## reference screenshots of every main page, by the browser journeys, into var/screenshots/
	rm -rf var/screenshots
	CARPULSE_SCREENSHOTS=$(CURDIR)/var/screenshots CARPULSE_TEST_BACKEND=server CARPULSE_TEST_DATABASE_URL=$(TEST_DATABASE_URL) \
		CARPULSE_TEST_REDIS_URL=$(TEST_REDIS_URL) $(RUN) pytest -q -n $(TEST_WORKERS) tests/web -k in_browser
	@ls var/screenshots

bench: install services ## benchmarks (bench/)
	$(RUN) python -m bench

# The issue-11 figures with real processes (minutes, not seconds: not part of `make bench`).
# SOAK_SCENARIOS=kills,redis,stream,throttle, SOAK_QUICK=1, SOAK_STRICT=1, SOAK_DATABASE_URL, SOAK_ARGS="--orders 50 ..."
soak: install services ## soak: worker kills, a Redis outage, stream length, Tesla 429s (SOAK_SCENARIOS, SOAK_QUICK)
	$(RUN) python -m bench.soak $(SOAK_ARGS)

format: install ## rewrite formatting and fixable lint
	$(RUN) ruff format src tests bench migrations
	$(RUN) ruff check --fix src tests bench migrations

clean: ## remove the virtualenv and local data
	rm -rf .venv var .mypy_cache .pytest_cache .ruff_cache
