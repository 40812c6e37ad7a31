# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ROWS   ?= 2000
PORT   ?= 5000
SUDO   := $(shell [ "$$(id -u)" != 0 ] && command -v sudo)

.PHONY: demo demo-replica test test-fast chromium pgbouncer css messages locale clean

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

## The demo on a PostgreSQL primary behind PgBouncer and a streaming standby for its reads,
## all of its own in temporary folders (docs/replicas.md); Ctrl-C stops and removes them.
demo-replica: $(STAMP) pgbouncer
	$(PY) -m hyper_admin.demo.replica --rows $(ROWS) --port $(PORT)

## Every test: unit, integration (SQLite and PostgreSQL) and browser. One worker per CPU
## (pytest-xdist), each test file on one worker: its module fixtures are set up once.
test: $(STAMP) $(HF_STAMP) chromium pgbouncer
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n auto --dist loadfile tests e2e
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

## Debian's PgBouncer for tests/test_pgbouncer.py (each run starts its own, on a free port).
pgbouncer:
	@if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then \
	  echo "Installing Debian's pgbouncer for the PgBouncer tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq pgbouncer \
	    || echo "Could not install pgbouncer: its tests will say why they skip"; \
	fi

## Rebuild static/admin.css, htmx and the icon sprite (needs Node; users never do).
css:
	npm ci
	npm run build

## Translations: extract our strings, merge them into every catalog, compile the catalogs.
## A translator then fills hyper_admin/translations/<locale>/LC_MESSAGES/hyper_admin.po and
## runs `make messages` again (tests/test_i18n.py fails on a missing or stale translation).
I18N    := hyper_admin/translations
PYBABEL := $(VENV)/bin/pybabel
messages: $(STAMP)
	$(PYBABEL) --quiet extract -F babel.cfg -k lazy_gettext -k _l -k pgettext:1c,2 -k lazy_pgettext:1c,2 \
	  --add-location=file --sort-by-file --no-wrap --project=hyper_admin --copyright-holder="hyper_admin" \
	  -o $(I18N)/hyper_admin.pot .
	$(PYBABEL) --quiet update -D hyper_admin -i $(I18N)/hyper_admin.pot -d $(I18N) --no-wrap --ignore-obsolete
	$(PYBABEL) compile -D hyper_admin -d $(I18N) --statistics

## A new language: make locale LOCALE=de (then translate its .po and run make messages).
locale: $(STAMP)
	$(PYBABEL) init -D hyper_admin -i $(I18N)/hyper_admin.pot -d $(I18N) -l $(LOCALE) --no-wrap

clean:
	rm -rf $(VENV) $(HF_VENV) dist build instance e2e/screenshots
