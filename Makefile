# The two commands of the README: `make run` (the service with a demo configuration on
# 127.0.0.1:8080) and `make test` (lint and the whole test suite). Both install first.
# `make bench` runs the benchmark (README, "Performance"). `make tools` installs the
# tools the tests run from their own environment (requirements-tools.txt says why).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: install tools run test bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --editable '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check --requirement requirements-tools.txt
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

run: $(STAMP)
	$(VENV)/bin/psc-hook serve --demo

test: $(STAMP) $(TOOLS_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

bench: $(STAMP)
	bash bench/run.sh
