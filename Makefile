# PREPARE Assist: `make run` serves the demo on 127.0.0.1:8000, `make test` runs the whole suite.
# Both set up everything they need on a fresh machine (virtualenv, packages, database schema).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
FLASK := $(BIN)/flask --app wsgi
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get
IS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)

.PHONY: run serve test test-fast lint vendor system-deps browser-deps messages translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when a requirements file changes.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

instance:
	mkdir -p instance

# The interface's catalogues (assist/translations/*/LC_MESSAGES/messages.po) compiled for gettext.
LOCALES := fr es nl de ca
CATALOGUES := $(foreach l,$(LOCALES),assist/translations/$(l)/LC_MESSAGES/messages)
translations: $(addsuffix .mo,$(CATALOGUES))

assist/translations/%/LC_MESSAGES/messages.mo: assist/translations/%/LC_MESSAGES/messages.po | $(VENV)/.runtime-installed
	$(BIN)/pybabel compile --statistics -i $< -o $@ -l $*

# After changing marked strings: re-extract them and bring every catalogue up to date.
# (Babel skips directories starting with "_" by default: templates/_macros must be scanned.)
BABEL_EXTRACT := -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
	--add-comments=NOTE: --ignore-dirs='.* node_modules instance'

messages: $(VENV)/.runtime-installed
	mkdir -p assist/translations
	$(BIN)/python -m babel.messages.frontend extract $(BABEL_EXTRACT) --no-location --sort-output \
		--project "PREPARE Assist" --copyright-holder Efus -o assist/translations/messages.pot .
	for l in $(LOCALES); do \
		if [ -f assist/translations/$$l/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel update -i assist/translations/messages.pot -d assist/translations -l $$l \
				--no-fuzzy-matching --ignore-obsolete; \
		else $(BIN)/pybabel init -i assist/translations/messages.pot -d assist/translations -l $$l; fi; \
	done

run: $(VENV)/.runtime-installed translations | instance
	ASSIST_ENV=$${ASSIST_ENV:-development} $(FLASK) db upgrade
	ASSIST_ENV=$${ASSIST_ENV:-development} $(FLASK) seed-demo
	@echo "PREPARE Assist on http://127.0.0.1:$(PORT)/ (demo accounts: see README)"
	ASSIST_ENV=$${ASSIST_ENV:-development} $(BIN)/gunicorn --workers $(WORKERS) \
		--bind 127.0.0.1:$(PORT) --no-control-socket --access-logfile - wsgi:app

# Production: the settings come from the environment (nothing is generated, no demo data).
# gunicorn.conf.py: WEB_CONCURRENCY workers (gthread), PORT/BIND, no control socket.
serve: $(VENV)/.runtime-installed translations
	@if [ -z "$$SECRET_KEY" ]; then echo "make serve: SECRET_KEY is not set. Set it to a long random value, e.g. export SECRET_KEY=\$$(python3 -c 'import secrets; print(secrets.token_hex(32))')" >&2; exit 1; fi
	@case "$$DATABASE_URL" in postgres://*|postgresql://*|postgresql+psycopg://*) ;; \
		*) echo "make serve: DATABASE_URL must point to PostgreSQL (postgresql+psycopg://user:pass@host/db); it is unset or not a PostgreSQL URL" >&2; exit 1;; esac
	@if [ -z "$$REDIS_URL" ]; then echo "make serve: REDIS_URL is not set (redis://host:6379/0): several workers must share their sign-in throttling counters" >&2; exit 1; fi
	ASSIST_ENV=production $(FLASK) db upgrade
	ASSIST_ENV=production exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Chromium (browser tests) and Node/npm (axe-core) come from Debian when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$(IS_ROOT)" = yes ]; then $(APT_GET) update -qq && $(APT_GET) install -y -qq $$missing; \
		else echo "Please install:$$missing (Debian packages)"; exit 1; fi; \
	fi

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

browser-deps: system-deps node_modules/.package-lock.json

test: $(VENV)/.dev-installed browser-deps translations
	$(BIN)/python -m pytest

test-fast: $(VENV)/.dev-installed translations
	$(BIN)/python -m pytest -m "not browser"

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r assist matching -ll

# Refresh the vendored front-end files from the pinned npm packages.
vendor: node_modules/.package-lock.json
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js \
		node_modules/bootstrap/LICENSE static/vendor/bootstrap/
	sed -i '/sourceMappingURL/d' static/vendor/bootstrap/bootstrap.min.css static/vendor/bootstrap/bootstrap.bundle.min.js
	mkdir -p static/vendor/chartjs
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md static/vendor/chartjs/
	cp node_modules/@kurkle/color/LICENSE.md static/vendor/chartjs/LICENSE-kurkle-color.md  # bundled in the UMD build
	sed -i '/^\/\/# sourceMappingURL=/d' static/vendor/chartjs/chart.umd.min.js

clean:
	rm -rf $(VENV) node_modules .pytest_cache
