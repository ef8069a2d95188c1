# 社区门户 — two commands: `make run` (demo site) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve bench bench-compare bench-report test test-dates lint check system-deps browser-deps deploy-deps node-deps migrate demo clean bench-search backup restore scan messages

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet ".[test]"
	touch $@

# The project's translations (locale/zh_Hans/LC_MESSAGES/*.po: the admin strings
# Wagtail's zh_Hans catalogue lacks) compiled to the .mo files Django reads, again
# whenever a .po changes; part of installing, so every target that runs the site
# or the tests has them. msgfmt (Debian's gettext) is what Django's compilemessages
# runs, with the same checks; called directly, it needs no Django settings.
MESSAGES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
messages: $(MESSAGES)

locale/%.mo: locale/%.po
	@.ci/system-deps gettext
	msgfmt --check-format -o $@ $<

# Debian packages the project needs: a CJK font for generated images (always) and
# Chromium for the browser tests (test only). Installed only when missing.
system-deps:
	@.ci/system-deps fonts-noto-cjk

browser-deps:
	@.ci/system-deps chromium chromium-driver fonts-noto-cjk postgresql-client

# The deploy recipe's test (tests/portal/test_deploy_recipe.py) runs Debian's nginx,
# with a certificate openssl makes, in front of gunicorn.
deploy-deps:
	@.ci/system-deps nginx openssl

# Node packages the tests use (Mozilla ical.js parses the iCalendar feeds), from
# package-lock.json; installed again only when the lock file is newer.
node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

migrate: $(INSTALLED) messages
	$(PY) manage.py migrate --noinput

demo: migrate system-deps
	$(PY) manage.py load_demo --host $(HOST) --port $(PORT)

# The background task worker (portal/worker.py: db_worker, or an RQ worker when
# REDIS_URL is set) runs beside runserver in a process group of its own, stopped
# (all of it, its autoreloader too) when the server stops: Ctrl-C, or a crash.
run: demo
	@echo "演示站点: http://$(HOST):$(PORT)/  后台: http://$(HOST):$(PORT)/admin/ (admin / $${DEMO_PASSWORD:-huayuanlu2026})"
	@setsid $(PY) -m portal.worker & worker=$$!; \
	trap 'kill -TERM -$$worker 2>/dev/null; wait $$worker; trap - EXIT' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production mode: gunicorn (and the task worker beside it, as in `run`) with
# portal/settings/production.py on whatever DATABASE_URL
# and REDIS_URL say (SQLite and local memory when unset). SECRET_KEY comes from the
# environment; a throwaway one is made up for a local try-out.
# Plain HTTP on $(HOST): no Secure cookies and no redirect to HTTPS unless the
# environment says otherwise (portal/settings/production.py).
SERVE_ENV = SECURE_COOKIES=$${SECURE_COOKIES:-false} WAGTAILADMIN_BASE_URL=$${WAGTAILADMIN_BASE_URL:-http://$(HOST):$(PORT)}
serve: migrate system-deps
	$(SERVE_ENV) DJANGO_SETTINGS_MODULE=portal.settings.production SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
		$(PY) manage.py collectstatic --noinput -v0
	@echo "生产模式: http://$(HOST):$(PORT)/"
	@export SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}; \
	$(SERVE_ENV) DJANGO_SETTINGS_MODULE=portal.settings.production setsid $(PY) -m portal.worker & worker=$$!; \
	trap 'kill -TERM -$$worker 2>/dev/null; wait $$worker; trap - EXIT' EXIT INT TERM; \
	$(SERVE_ENV) BIND=$(HOST):$(PORT) $(BIN)/gunicorn portal.wsgi:application -c portal/gunicorn.conf.py

# A large synthetic site served by gunicorn and measured with wrk (bench/run.py),
# and each page type's first screen on an emulated slow 4G in Debian's Chromium
# (bench/browser.py); results go to bench/results/. BENCH_ARGS="--rebuild" starts
# the site over.
bench: migrate system-deps browser-deps
	@.ci/system-deps wrk
	$(PY) -m bench.run $(BENCH_ARGS)
	@$(MAKE) --no-print-directory bench-report

# Our full render beside another site served on this machine (bench/compare.py):
# issue 19 compares with Wagtail's bakerydemo. Serve the other site yourself
# (2 sync gunicorn workers, SQLite, no page cache) and name its address, pages and
# gunicorn master's pid, e.g. make bench-compare OTHER=http://127.0.0.1:8201
# OTHER_PAGES="home=/ blog_index=/blog/ bread=/breads/anpan/" OTHER_PID=1234.
bench-compare: migrate system-deps
	@.ci/system-deps wrk
	$(PY) -m bench.compare --other "$(OTHER)" --other-pages "$(OTHER_PAGES)" --other-pid "$${OTHER_PID:-0}" $(COMPARE_ARGS)

# Security scan: Debian's wapiti against a freshly served demo site in its own
# database (security/wapiti_scan.py); fails on any injection or XSS finding.
# SCAN_ARGS="--max-scan-time 3600 --max-attack-time 900" scans longer; the summary
# lists the modules that ran out of time (stopped_early).
scan: $(INSTALLED) messages system-deps
	@.ci/system-deps wapiti
	$(PY) -m security.wapiti_scan $(SCAN_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py makemigrations --check --dry-run

# Two pytest-xdist workers (the machine's cores); a file's tests stay on one worker
# (tests/conftest.py), which shares the demo built once for the run. TEST_WORKERS=0
# runs in one process. The 25 slowest tests are listed at the end (where the
# suite's time goes).
TEST_WORKERS ?= 2
test: $(INSTALLED) messages browser-deps deploy-deps node-deps lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25 $(PYTEST_ARGS)

# The tests that read the demo or the clock, with the clock moved (libfaketime) to
# 2026-12-05 23:30, 2027-02-05 09:00, 2027-07-15 12:00 and 2027-12-31 23:50
# (Asia/Shanghai); TEST_DATES="YYYY-MM-DD HH:MM:SS;…" picks other moments.
test-dates: $(INSTALLED) messages browser-deps deploy-deps node-deps
	@.ci/system-deps faketime
	.ci/test-dates

clean:
	rm -rf $(VENV) node_modules db.sqlite3* media staticfiles .pytest_cache test-output
	rm -f $(MESSAGES)

# Search latency over generated pages in a database of its own (never the demo's):
# a SQLite file in bench/data/ unless BENCH_DATABASE_URL says otherwise, e.g.
# BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench. Prints p50/p95
# against a title lookup and writes bench/results/search-<date>-<database>.json.
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/bench/data/search-bench.sqlite3
BENCH_PAGES ?= 5000
bench-search: $(INSTALLED)
	@mkdir -p bench/data
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=0 $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=0 $(PY) manage.py bench_search --pages $(BENCH_PAGES)

# The year-end report 活动统计 at 10,000 sign-ups (demo/report_bench.py), in a
# database of its own like bench-search: prints the median time of the page and
# of its XLSX export and writes bench/results/report-<date>-<database>.json.
BENCH_REPORT_DATABASE_URL ?= sqlite:///$(CURDIR)/bench/data/report-bench.sqlite3
BENCH_SIGNUPS ?= 10000
bench-report: $(INSTALLED)
	@mkdir -p bench/data
	DATABASE_URL=$(BENCH_REPORT_DATABASE_URL) DEBUG=0 $(PY) manage.py migrate --noinput -v0
	DATABASE_URL=$(BENCH_REPORT_DATABASE_URL) DEBUG=0 $(PY) manage.py bench_report --signups $(BENCH_SIGNUPS)

# Backups (portal/backup.py): one archive of the database and the media in backups/
# (or BACKUP_DIR), safe while the site runs. pg_dump / pg_restore come from Debian's
# postgresql-client, installed only when DATABASE_URL points to PostgreSQL.
# Restore: make restore ARCHIVE=backups/portal-….tar.gz (FORCE=1 to overwrite a
# database that has content; it is backed up first), then migrate for newer code.
PG_CLIENT = case "$${DATABASE_URL:-}" in postgres*) .ci/system-deps postgresql-client;; esac

backup: $(INSTALLED)
	@$(PG_CLIENT)
	$(PY) manage.py backup_site

restore: $(INSTALLED)
	@test -n "$(ARCHIVE)" || { echo "用法: make restore ARCHIVE=backups/portal-….tar.gz [FORCE=1]" >&2; exit 2; }
	@$(PG_CLIENT)
	$(PY) manage.py restore_site "$(ARCHIVE)" $(if $(FORCE),--force)
	$(PY) manage.py migrate --noinput
