# Wijkkaart: `make run` sets everything up and serves the demo map; `make test` sets up and tests.
# Both are safe to run again: each step only does what is missing or out of date.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
KAART := $(VENV)/bin/kaart
WITH_DB := scripts/with-db
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-quick setup lock system system-test system-bench db demo lint format bench bench-import bench-tiles bench-ogc bench-solar bench-search stop-db clean

run: system setup demo
	$(WITH_DB) $(KAART) serve --host $(HOST) --port $(PORT)

test: system-test setup
	$(WITH_DB) scripts/run-tests

# The quick loop while working: everything but Chromium, the deployed stack and Schemathesis
# (make test runs those too, and CI runs make test).
test-quick: system-test setup
	$(WITH_DB) scripts/run-tests -m "not browser and not deployed and not schemathesis"

setup: $(VENV)/.stamp static/vendor/.stamp

system:
	@scripts/system-packages run

system-test:
	@scripts/system-packages test

system-bench:
	@scripts/system-packages bench

# Exact versions from the lock file, then the project itself without resolving anything again.
$(VENV)/.stamp: pyproject.toml requirements/test.txt
	@echo "setup: Python virtualenv in $(VENV)" >&2
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements/test.txt
	@$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# The lock files, from pyproject.toml's ranges: requirements/runtime.txt (the Docker image) and
# requirements/test.txt (make setup; the same versions plus the test extra). Versions already
# pinned stay unless a range excludes them; LOCK_ARGS=--upgrade (or --upgrade-package NAME) moves.
LOCK_VENV := .venv-lock
UV_VERSION := 0.13.9
LOCK := $(LOCK_VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 \
	--custom-compile-command 'make lock' $(LOCK_ARGS)

lock:
	@test -x $(LOCK_VENV)/bin/uv || python3 -m venv $(LOCK_VENV)
	@$(LOCK_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(LOCK) -o requirements/runtime.txt
	$(LOCK) --extra test -c requirements/runtime.txt -o requirements/test.txt

static/vendor/.stamp: package.json package-lock.json scripts/vendor-assets
	@scripts/vendor-assets

db: system setup
	$(WITH_DB) $(KAART) db upgrade

demo: db
	$(WITH_DB) $(KAART) demo load

lint: setup
	$(VENV)/bin/ruff check kaart geodata tests bench migrations
	$(VENV)/bin/ruff format --check kaart geodata tests bench migrations

format: setup
	$(VENV)/bin/ruff format kaart geodata tests bench migrations
	$(VENV)/bin/ruff check --fix kaart geodata tests bench migrations

bench: system-test setup
	$(WITH_DB) $(PY) -m bench.contributions

bench-import: system-bench setup
	$(WITH_DB) $(PY) -m bench.layers_import

bench-tiles: system-bench setup
	$(WITH_DB) $(PY) -m bench.tiles

# The same dense tiles from 8 and 32 clients at once, the app against TiPg (2 workers each).
.PHONY: bench-concurrency bench-memory
bench-concurrency: system-bench setup
	$(WITH_DB) $(PY) -m bench.concurrency

# A serving worker's memory after a warm-up of every kind of request, beside TiPg's.
bench-memory: system-bench setup
	$(WITH_DB) $(PY) -m bench.memory

bench-solar: setup
	$(WITH_DB) $(PY) -m bench.solar

# The address search at 10 million synthetic addresses (about 5 minutes to build).
bench-search: system-bench setup
	$(WITH_DB) $(PY) -m bench.search

bench-ogc: system-bench setup
	$(WITH_DB) $(PY) -m bench.ogc

.PHONY: bench-national
# About 35 minutes on 2 cores; needs ~15 GB of disk (bench/out and the bench database).
bench-national: system-bench setup
	$(WITH_DB) $(PY) -m bench.national

# Writes through nginx + gunicorn while PostgreSQL restarts; its own cluster, no WITH_DB needed.
.PHONY: bench-reliability
bench-reliability: system-bench setup
	$(PY) -m bench.reliability

stop-db:
	scripts/pgcluster stop

clean: stop-db
	rm -rf $(VENV) $(LOCK_VENV) node_modules static/vendor .pgdata
