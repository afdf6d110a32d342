# aimweb: `make run` serves the demo, `make test` runs the whole suite, `make lint` runs ruff.
# Each installs what it needs, and only that.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app aimweb
HOST ?= 127.0.0.1
PORT ?= 5000
# Debian packages: WeasyPrint's libraries (+ harfbuzz-subset for speed) to run; for the tests also
# Chromium (browser tests), poppler (PDFs read back) and LibreOffice (real workbooks for uploads).
RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils libreoffice-calc-nogui wrk

.PHONY: run test lint install install-test install-lint system-deps-run system-deps-test node-deps vendor db demo clean bench migration

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	touch $@

# One marker per set of extras: running needs the package alone, the tests and lint their extras
# too. Each is redone when pyproject.toml changes, so switching targets never runs on stale deps.
$(VENV)/.installed-run: pyproject.toml $(VENV)/.created
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-%: pyproject.toml $(VENV)/.created
	$(PY) -m pip install -q -e '.[$*]'
	touch $@

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test
install-lint: $(VENV)/.installed-lint

# Installs the Debian packages that are missing (root, or sudo when available).
system-deps-run: PACKAGES = $(RUN_PACKAGES)
system-deps-test: PACKAGES = $(TEST_PACKAGES)
system-deps-run system-deps-test:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing >/dev/null; \
	fi

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: node_modules/.installed

# Copies USWDS and htmx from their npm packages into aimweb/static/vendor (committed).
vendor: node-deps
	rm -rf aimweb/static/vendor && mkdir -p aimweb/static/vendor/uswds/img
	cp node_modules/htmx.org/dist/htmx.min.js aimweb/static/vendor/
	cp -r node_modules/@uswds/uswds/dist/{css,js,fonts} aimweb/static/vendor/uswds/
	rm -rf aimweb/static/vendor/uswds/fonts/public-sans aimweb/static/vendor/uswds/css/uswds.css* aimweb/static/vendor/uswds/css/*.map aimweb/static/vendor/uswds/js/*.map aimweb/static/vendor/uswds/js/uswds.js aimweb/static/vendor/uswds/js/uswds-init.js
	cd node_modules/@uswds/uswds/dist/img && cp -r *.svg *.png usa-icons usa-icons-bg ../../../../../aimweb/static/vendor/uswds/img/

instance/secret_key:
	@mkdir -p instance
	@$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@

db: install instance/secret_key
	AIMWEB_SECRET_KEY=$$(cat instance/secret_key) $(FLASK) db upgrade

demo: db
	AIMWEB_SECRET_KEY=$$(cat instance/secret_key) $(FLASK) seed-demo

# Rate limits in Redis when one answers on 127.0.0.1:6379 (as in production), else in memory.
# The job queue's worker (uploads, mail, the scheduled refreshes) runs beside the web server on the
# SQLite queue file instance/queue.sqlite3 (AIMWEB_QUEUE_URL overrides), and stops with it.
run: system-deps-run demo
	@if [ -z "$$AIMWEB_RATELIMIT_STORAGE_URI" ] && $(PY) -c 'import redis; redis.Redis(socket_timeout=0.5).ping()' 2>/dev/null; then \
	  echo "Rate limits: redis://127.0.0.1:6379/0"; export AIMWEB_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0; \
	else echo "Rate limits: $${AIMWEB_RATELIMIT_STORAGE_URI:-memory:// (no Redis on 127.0.0.1:6379)}"; fi; \
	export AIMWEB_SECRET_KEY=$$(cat instance/secret_key) AIMWEB_LOG_FORMAT=$${AIMWEB_LOG_FORMAT:-text}; \
	$(FLASK) worker --log-level WARNING & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	echo "Job queue: worker $$worker on $${AIMWEB_QUEUE_URL:-instance/queue.sqlite3}"; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: system-deps-test install-test node-deps
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-lint
	$(PY) -m ruff check aimweb tests bench migrations wsgi.py

# The benchmarks drive a real SMTP server (aiosmtpd), one of the test extras.
bench: install-test
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache

# A new migration from the models: make migration MSG="what changed". create_app turns batch mode
# off (on SQLite it copies a table, which the license table's foreign keys forbid), so it writes
# plain op.add_column / op.create_index; read it before committing all the same.
migration: install
	rm -f /tmp/aimweb-migration.sqlite3
	export AIMWEB_SECRET_KEY=x AIMWEB_SQLALCHEMY_DATABASE_URI=sqlite:////tmp/aimweb-migration.sqlite3; \
	  $(FLASK) db upgrade >/dev/null && $(FLASK) db migrate -m "$(MSG)"
	rm -f /tmp/aimweb-migration.sqlite3
