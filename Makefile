# Two commands matter: `make run` and `make test`. Everything else is a step they share.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Development defaults; the environment (or .env) overrides them.
export DEBUG ?= 1

VENDOR := static/vendor

.PHONY: run test setup install assets migrate reference worker beat proconnect lint format messages check-deploy screenshots bench clean

run: setup ## Set up everything and serve the site on http://127.0.0.1:$(PORT)
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install assets ## Set up and run the whole suite, lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

setup: install assets migrate reference

# The stamp files make a second `make run` skip what is already done.
install: $(VENV)/.installed .env
# Development settings for this checkout, so `.venv/bin/python manage.py …` works
# as it does under make; never committed, never copied into the Docker image.
.env:
	printf '# Local development settings; see .env.example. Not committed.\nDEBUG=1\n' > $@
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

assets: $(VENDOR)/.copied
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@
$(VENDOR)/.copied: node_modules/.installed
	npm run --silent vendor
	touch $@

migrate: install
	$(PY) manage.py migrate --no-input

reference: install assets migrate ## Official territory referential (skipped when unchanged)
	@if $(PY) manage.py help import_territories >/dev/null 2>&1; then $(PY) manage.py import_territories; fi

worker: install ## A Celery worker (needs REDIS_URL)
	$(VENV)/bin/celery -A alliance worker --loglevel=INFO

beat: install ## Celery beat, the periodic scheduler (needs REDIS_URL)
	$(VENV)/bin/celery -A alliance beat --loglevel=INFO --schedule=var/celerybeat-schedule

# Development only: a local OpenID provider standing in for ProConnect (docs/proconnect.md).
proconnect: node_modules/.installed ## The ProConnect stand-in on http://127.0.0.1:9090
	@echo "Set these in .env, then restart make run (sign in with e.g. marie@mairie-toulouse.fr|213105554|00012):"
	@echo "  PROCONNECT_BASE_URL=http://127.0.0.1:9090"
	@echo "  PROCONNECT_CLIENT_ID=alliance-dev"
	@echo "  PROCONNECT_CLIENT_SECRET=alliance-dev-secret"
	node tests/proconnect/provider.mjs 9090

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: install ## Refresh and compile the English catalogue
	$(PY) manage.py makemessages --locale en --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --locale en --ignore '.venv/*' --ignore 'node_modules/*'

check-deploy: install ## Django's deployment checklist with production-like settings
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	  ALLOWED_HOSTS=alliance.example.org SITE_URL=https://alliance.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

screenshots: install assets ## PNGs of every public page, desktop and mobile, in var/screenshots/
	$(VENV)/bin/pytest tests/browser/test_screenshots.py -m screenshots -q

# Not part of `make test`: it takes the machine for ~15 minutes (docs/performance.md).
bench: install assets ## Load test on a production-like stack; BENCH_QUICK=1 for a 2–3 min smoke run
	@command -v wrk >/dev/null || { echo "Installing wrk"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) benchmarks/bench.py $(if $(filter 1,$(BENCH_QUICK)),--quick)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
