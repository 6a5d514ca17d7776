# Lapor developer commands. `make run` starts the local stack (real emulators);
# `make test` runs every test tier; `make lint` is what CI checks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Reinstall only when the dependency list changes.
STAMP := $(VENV)/.lapor-deps.stamp
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.checkov-$(CHECKOV_VERSION).stamp

.PHONY: help venv check run test lint bench bundle clean clean-data

help:
	@echo "make venv        create .venv and install dependencies (from pyproject.toml)"
	@echo "make check       check the prerequisites (Python, Java, gcloud emulators)"
	@echo "make run         start the local stack: emulators + every function (Ctrl-C saves data)"
	@echo "make test        all test tiers: unit, infra, integration, functional, e2e"
	@echo "make lint        ruff check, ruff format --check, mypy"
	@echo "make bench       run the benchmarks: one table each, then the figure sheet; figures and logs in bench/results/"
	@echo "make bundle      infra/topology.json + build/<name>.zip for each function (then terraform, see docs/deploy.md)"
	@echo "make clean       remove caches and build output (keeps .lapor/ local data)"
	@echo "make clean-data  remove .lapor/ (the local stack's saved data and secret)"

venv: $(STAMP)

$(STAMP): pyproject.toml tools/deps.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed: sudo apt-get install python3.11 python3.11-venv" >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV): install Python's venv module (sudo apt-get install python3-venv)" >&2; exit 2; }
	$(PY) -m tools.deps > $(VENV)/lapor-requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/lapor-requirements.txt
	@touch $@

check: venv
	$(PY) -m tools.stack check

run: venv
	$(PY) -m tools.stack run

# pytest exits 5 when it collects nothing; make treats that as the failure it is.
test: venv $(CHECKOV_STAMP)
	tools/ensure_chromium.sh
	$(PY) -m pytest

# checkov (static analysis of infra/, run by tests/infra/test_checkov.py) in a venv of
# its own: it pins library versions the functions' own dependencies must not follow.
$(CHECKOV_STAMP):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "checkov==$(CHECKOV_VERSION)"
	@touch $@

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: venv
	$(PY) -m bench

# Deployment bundles: functions/<name>/ + shared/ as build/<name>/ and a deterministic
# build/<name>.zip (Terraform uploads it as <name>-<md5>.zip), after refreshing the
# topology Terraform reads.
bundle: venv
	$(PY) -m tools.export_topology
	$(PY) -m tools.bundle

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

clean-data:
	rm -rf .lapor
