# Two commands: `make run` (set up everything, seed demo data, serve) and `make test` (set up, run the suite).
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_WORKERS ?= auto

.PHONY: run test install lint migrate seed worker bench clean check-deploy

$(PYTHON):
	@py=""; for c in python3.13 python3.12 python3 python; do \
	  if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then py=$$c; break; fi; \
	done; \
	if [ -z "$$py" ]; then echo "Python 3.12 or newer is required (3.13 recommended)." >&2; exit 1; fi; \
	echo "Creating $(VENV) with $$($$py --version)"; $$py -m venv $(VENV)

$(STAMP): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)
	@bash scripts/ensure-node-modules

migrate: install
	$(PYTHON) manage.py migrate --noinput

seed: migrate
	$(PYTHON) manage.py seed_demo

run: seed
	@echo ""
	@echo "  School Sessions is starting on http://$(HOST):$(PORT)/"
	@echo "  Participants: http://$(HOST):$(PORT)/register    API docs: http://$(HOST):$(PORT)/api/docs/"
	@echo ""
	@trap 'kill 0' EXIT INT TERM; \
	  $(PYTHON) manage.py db_worker --queue-name '*' >var/worker.log 2>&1 & \
	  $(PYTHON) manage.py runserver $(HOST):$(PORT)

worker: install
	$(PYTHON) manage.py db_worker --queue-name '*'

test: install
	@bash scripts/ensure-chromium
	$(PYTHON) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

check-deploy: install
	DJANGO_ENV=production SECRET_KEY=check-deploy-$$RANDOM-a-long-random-secret-key-for-the-check-only-0123456789 \
	  ALLOWED_HOSTS=example.org $(PYTHON) manage.py check --deploy --fail-level WARNING

bench: install
	$(PYTHON) bench/run.py

clean:
	rm -rf $(VENV) var/*.sqlite3* staticfiles node_modules
