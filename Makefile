# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test install dev-install migrate demo demo-fixture zip-table lint format test-postgres browser-deps bench profile loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

migrate: install
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) load_demo

## make demo-fixture: regenerate fixtures/demo_facilities.json (fictional, deterministic)
demo-fixture: migrate
	$(MANAGE) generate_facilities --seed 2026 --source demo --iop-share 0.8 --as-of 2026-11-22 \
		--states MS:30,VA:20,TN:14,AL:12,LA:12,GA:14,NC:14,TX:16,OH:12,CA:16 \
		--fixture fixtures/demo_facilities.json

## make zip-table: rewrite facilities/zip_centroids.csv.gz from the zipcodes package
zip-table: install
	$(MANAGE) export_zip_table

## make run: install, migrate, load the demo data and serve http://127.0.0.1:8000/
run: demo
	DEBUG=1 $(MANAGE) runserver $(HOST):$(PORT)

## make serve: production server: collect static files, then gunicorn (README "Running in production")
serve: install
	$(MANAGE) collectstatic --noinput
	$(BIN)/gunicorn finder.wsgi -c finder/gunicorn.conf.py

## make test: install the dev dependencies, lint, check migrations, run the whole suite on
## TEST_WORKERS processes (pytest-xdist; TEST_WORKERS=0 runs it serially), print the time taken
TEST_WORKERS ?= 2
# Browser tests carry xdist_group("browser") (tests/conftest.py): loadgroup keeps them on one
# worker. No reordering: each worker must keep pytest-django's order, transactional tests
# (which flush the vocabulary the migrations loaded) after the others.
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder
test: dev-install
	@started=$$(date +%s); \
	case "$${DATABASE_URL:-sqlite}" in postgres*) db=PostgreSQL ;; sqlite*) db=SQLite ;; \
		*) db="$${DATABASE_URL%%:*}" ;; esac; \
	case "$(TEST_WORKERS)" in 0) workers=serial ;; 1) workers="1 worker" ;; \
		*) workers="$(TEST_WORKERS) workers" ;; esac; \
	run() { echo "$$*"; "$$@"; }; \
	status=0; \
	{ run $(BIN)/ruff check . && \
	  run $(BIN)/ruff format --check . && \
	  run $(MANAGE) makemigrations --check --dry-run && \
	  if [ -x /usr/bin/chromium ]; then \
		run $(BIN)/pytest $(PYTEST_PARALLEL); \
	  else \
		echo; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!! /usr/bin/chromium not found: the BROWSER TESTS ARE LEFT OUT.       !!"; \
		echo "!! Install it (apt-get install chromium) to run them; CI always does. !!"; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo; \
		run $(BIN)/pytest $(PYTEST_PARALLEL) -m "not browser"; \
	  fi; } || status=$$?; \
	echo "make test: $$(( $$(date +%s) - started )) s ($$db, $$workers)$$( \
		[ $$status = 0 ] || echo ", FAILED with status $$status")"; \
	exit $$status

## make test-postgres: the same suite against the local PostgreSQL server
test-postgres: DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
test-postgres:
	DATABASE_URL=$(DATABASE_URL) $(MAKE) test

## make loadtest: load and fault tests on a private PostgreSQL with 100,000 listings (bench/loadtest.py)
loadtest: install
	$(BIN)/python bench/loadtest.py

## make browser-deps: Debian's Chromium for the browser tests (needs root)
browser-deps:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

## make bench: 100,000 generated listings in PostgreSQL (iop_bench, made once), gunicorn
## with production settings, wrk per scenario; writes bench/results.json (README "Performance")
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/iop_bench
bench: dev-install
	@command -v wrk >/dev/null || { \
		echo "== installing wrk (Debian package)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run.py $(BENCH_ARGS)

## make profile PROFILE_PATH=/facilities/?state=CA: where one request's time goes (pyinstrument)
profile: dev-install
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/profile.py '$(PROFILE_PATH)'

lint: dev-install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: dev-install
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
