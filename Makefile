# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ROWS   ?= 2000
PORT   ?= 5000
SUDO   := $(shell [ "$$(id -u)" != 0 ] && command -v sudo)

.PHONY: demo test test-fast chromium css clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,postgres]"
	touch $(STAMP)

# Hyperflask pins an older gunicorn than the test environment's: its tests get a venv of their own.
HF_VENV  := .venv-hyperflask
HF_STAMP := $(HF_VENV)/.installed

$(HF_STAMP): pyproject.toml
	$(PYTHON) -m venv $(HF_VENV)
	$(HF_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(HF_VENV)/bin/python -m pip install --quiet -e ".[hyperflask,postgres]" pytest
	touch $(HF_STAMP)

## Serve the demo back office at http://127.0.0.1:$(PORT)/admin (ROWS=1000000 for a big one).
demo: $(STAMP)
	$(PY) -m hyper_admin.demo --rows $(ROWS) --port $(PORT) $(if $(RESEED),--reseed)

## Every test: unit, integration (SQLite and PostgreSQL) and browser.
test: $(STAMP) $(HF_STAMP) chromium
	$(PY) -m pytest tests e2e
	$(HF_VENV)/bin/python -m pytest -p no:cacheprovider tests/test_hyperflask.py

## The same without the slow ones (wheel build, big seeds) while you work.
test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not slow and not browser" -q

## Debian's Chromium for Playwright (never `playwright install`: it downloads a browser).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium \
	    || echo "Could not install chromium: browser tests will say why they skip"; \
	fi

## Rebuild static/admin.css, htmx and the icon sprite (needs Node; users never do).
css:
	npm ci
	npm run build

clean:
	rm -rf $(VENV) $(HF_VENV) dist build instance e2e/screenshots
