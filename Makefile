# `make run` and `make test` do all the set-up on a fresh machine with Python 3.11+ and its venv
# module (`make test` also needs Node.js 20+ and npm, for Newman and the browser tests). Both check
# these first and say what to install.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
PYTHON_MIN := 3.11
# The one Node.js requirement, also in README.md and the "engines" of both package.json files:
# playwright-core (clients/web) needs 20, Newman (clients/postman) 16.
NODE_MIN := 20
VENV := .venv
BIN := $(VENV)/bin
POSTMAN := clients/postman
# The browser tests (tests/live/test_web_ui.py): Debian's Chromium, driven by the npm packages pinned in
# clients/web (playwright-core downloads no browser). CHROMIUM=/path picks another Chromium (the
# tests read the same variable); apt-get runs only when the default one is missing.
CHROMIUM_DEFAULT := /usr/bin/chromium
CHROMIUM ?= $(CHROMIUM_DEFAULT)
export CHROMIUM
WEB_TESTS := clients/web
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo )env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: run test bench soak lint format lock clean browser screenshots check-tools check-python check-node

run: $(VENV)/.runtime
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: check-tools $(VENV)/.dev $(POSTMAN)/node_modules/.installed browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
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
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every tool `make test` needs, checked before anything is installed.
check-tools: check-python check-node

check-python:
	@"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < tuple(map(int, "$(PYTHON_MIN)".split("."))))' 2>/dev/null || { \
	  echo "Python $(PYTHON_MIN) or newer is needed; PYTHON=$(or $(PYTHON),(none found)) is not."; \
	  echo "Install it (Debian: apt-get install python3), or name one: make PYTHON=/path/to/python3.11 ..."; \
	  exit 1; }
	@"$(PYTHON)" -c 'import ensurepip, venv' 2>/dev/null || { \
	  echo "Python's venv module (with ensurepip) is missing for $(PYTHON)."; \
	  echo "On Debian or Ubuntu: sudo apt-get install python3-venv"; \
	  exit 1; }

check-node:
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "Node.js $(NODE_MIN) or newer with npm is needed for Newman and the browser tests."; \
	  echo "On Debian: sudo apt-get install nodejs npm (or see https://nodejs.org/)"; \
	  exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= $(NODE_MIN) ? 0 : 1)' || { \
	  echo "Node.js $(NODE_MIN) or newer is needed; $$(command -v node) is $$(node --version)."; \
	  exit 1; }

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)

# Installs come from the lock files: every package, direct or not, pinned with its hashes, so a
# fresh clone gets exactly the tested set. requirements*.txt name what we chose; `make lock` turns
# them into requirements*.lock (pip-compile, from pip-tools in a venv of its own).
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

PIP_TOOLS := pip-tools==7.7.0
LOCK_VENV := .venv-lock
COMPILE := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-header

# The dev lock is compiled against the runtime lock, so both install the same runtime versions.
lock: | check-python
	test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/pip install --quiet $(PIP_TOOLS))
	$(COMPILE) -o requirements.lock requirements.txt
	$(COMPILE) -c requirements.lock -o requirements-dev.lock requirements-dev.txt

# Newman, exactly as pinned in the lock file (tests/live/test_postman.py runs the collection).
$(POSTMAN)/node_modules/.installed: $(POSTMAN)/package.json $(POSTMAN)/package-lock.json | check-node
	npm ci --prefix $(POSTMAN) --no-audit --no-fund
	touch $@

browser: $(WEB_TESTS)/node_modules/.installed
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$(CHROMIUM)" != "$(CHROMIUM_DEFAULT)" ]; then \
	    echo "CHROMIUM=$(CHROMIUM) is not an executable Chromium."; exit 1; fi; \
	  $(APT_GET) update && $(APT_GET) install -y chromium fonts-dejavu-core; \
	fi

$(WEB_TESTS)/node_modules/.installed: $(WEB_TESTS)/package.json $(WEB_TESTS)/package-lock.json | check-node
	cd $(WEB_TESTS) && npm ci --no-audit --no-fund
	touch $@

# Tests leave tracked files alone (the journey's screenshots go to a temporary folder): this
# replaces the screenshots in clients/web/screenshots/ (shown in docs/clients.md) after a passing journey.
screenshots: check-tools $(VENV)/.dev browser
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest -p no:xdist -q tests/live/test_web_ui.py -k journey

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .ruff_cache $(WEB_TESTS)/node_modules $(POSTMAN)/node_modules
