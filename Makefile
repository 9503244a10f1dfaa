# The two commands of README: `make demo` and `make test`. Both install what is missing and are idempotent.
VENV   := .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint system-deps system-deps-test install clean-db

demo: system-deps install
	$(VENV)/bin/covidgis demo

test: system-deps-test install lint
	$(VENV)/bin/pytest

# The conventions the tools hold (pyproject.toml): lint, formatting and types, before any test runs.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

install: $(STAMP)

system-deps:
	@scripts/system-deps.sh

# the test suite also drives Chromium and QGIS
system-deps-test:
	@scripts/system-deps.sh --test

# Reinstall only when the dependencies change.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Stop the project-local PostGIS and delete its data.
clean-db:
	-$(VENV)/bin/covidgis db stop
	rm -rf var/pgdata var/pgsock var/postgresql.log
