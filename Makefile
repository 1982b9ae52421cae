# partnerapp — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test lint format install install-dev check-deploy clean bench screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: everything on embedded defaults (SQLite, filesystem broker, sandbox provider)
demo: install
	PORT=$(PORT) $(BIN)/python manage.py demo

## make test: lint, then the whole suite (uses DATABASE_URL / CELERY_BROKER_URL when set)
test: install-dev lint
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make check-deploy: Django's deployment checklist on the production settings in the
## environment (PARTNERAPP_ENV=production and its secrets); any warning fails.
check-deploy: install
	PARTNERAPP_ENV=production $(BIN)/python manage.py check --deploy --fail-level WARNING

## make screenshots: the README's pictures — overview, invoices, wizard, preview, job page,
## document page, schedules in de, fr, it and en at 1280 x 800 — taken by a browser test (with
## a real worker; each page passes axe-core), then copied from var/screenshots/ to docs/screenshots/
SCREENSHOTS_FROM = $(or $(PARTNERAPP_VAR_DIR),var)/screenshots
screenshots: install-dev
	$(BIN)/pytest -q tests/browser/test_screenshots.py
	mkdir -p docs/screenshots
	rm -f docs/screenshots/*.png
	cp $(SCREENSHOTS_FROM)/*.png docs/screenshots/

clean:
	rm -rf var/broker var/test-* var/staticfiles

## make bench: the benchmarks, each printing its figures side by side with a baseline
## (use DATABASE_URL / CELERY_BROKER_URL for PostgreSQL and Redis; machines are noisy)
bench: install-dev
	$(BIN)/python tests/benchmarks/bench_jobs.py
	$(BIN)/python tests/benchmarks/bench_recovery.py
	$(BIN)/python tests/benchmarks/bench_accounts.py
	$(BIN)/python tests/benchmarks/bench_sandbox_throughput.py
	$(BIN)/python tests/benchmarks/bench_seeding.py
	$(BIN)/python tests/benchmarks/bench_pages.py
	$(BIN)/python tests/benchmarks/bench_claims.py
	$(BIN)/python tests/benchmarks/bench_bankfile.py
	$(BIN)/python tests/benchmarks/bench_payments.py
	$(BIN)/python tests/benchmarks/bench_dunning.py
