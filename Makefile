# `make run` and `make test` do all the set-up on a fresh machine with Python 3.11
# (`make test` also needs Node.js 18+ and npm, for Newman).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
POSTMAN := clients/postman
# The browser tests (tests/test_web_ui.py): Debian's Chromium, driven by the npm packages pinned in
# clients/web (playwright-core downloads no browser). apt-get runs only when Chromium is missing.
CHROMIUM := /usr/bin/chromium
WEB_TESTS := clients/web
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo )env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: run test bench soak lint format clean browser

run: $(VENV)/.runtime
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(VENV)/.dev $(POSTMAN)/node_modules/.installed browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n auto

# The benchmarks drive the server with wrk (Debian's package), installed here if missing.
bench: $(VENV)/.dev
	@command -v wrk >/dev/null || ($(APT_GET) update -qq && $(APT_GET) install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench.run

# 50 clients for 10 minutes, memory sampled throughout; writes bench/soak.md. Not run in CI.
soak: $(VENV)/.dev
	@command -v wrk >/dev/null || ($(APT_GET) update -qq && $(APT_GET) install -y -qq wrk >/dev/null)
	$(BIN)/python -m bench.load --seconds 600 --write bench/soak.md

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Newman, exactly as pinned in the lock file (tests/test_postman.py runs the collection).
$(POSTMAN)/node_modules/.installed: $(POSTMAN)/package.json $(POSTMAN)/package-lock.json
	npm ci --prefix $(POSTMAN) --no-audit --no-fund
	touch $@

browser: $(WEB_TESTS)/node_modules/.installed
	@test -x $(CHROMIUM) || { $(APT_GET) update && $(APT_GET) install -y chromium fonts-dejavu-core; }

$(WEB_TESTS)/node_modules/.installed: $(WEB_TESTS)/package.json $(WEB_TESTS)/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 or newer with npm is needed for the browser tests"; exit 1; }
	cd $(WEB_TESTS) && npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(WEB_TESTS)/node_modules $(POSTMAN)/node_modules
