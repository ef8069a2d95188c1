# 社区门户 — two commands: `make run` (demo site) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint check system-deps browser-deps node-deps migrate demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet ".[test]"
	touch $@

# Debian packages the project needs: a CJK font for generated images (always) and
# Chromium for the browser tests (test only). Installed only when missing.
system-deps:
	@.ci/system-deps fonts-noto-cjk

browser-deps:
	@.ci/system-deps chromium chromium-driver fonts-noto-cjk

# Node packages the tests use (Mozilla ical.js parses the iCalendar feeds), from
# package-lock.json; installed again only when the lock file is newer.
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

migrate: $(INSTALLED)
	$(PY) manage.py migrate --noinput

demo: migrate system-deps
	$(PY) manage.py load_demo

run: demo
	@echo "演示站点: http://$(HOST):$(PORT)/  后台: http://$(HOST):$(PORT)/admin/ (admin / $${DEMO_PASSWORD:-huayuanlu2026})"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py makemigrations --check --dry-run

test: $(INSTALLED) browser-deps node-deps lint
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules db.sqlite3* media staticfiles .pytest_cache test-output
