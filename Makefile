# The two commands of the README: `make run` (the service with a demo configuration on
# 127.0.0.1:8080) and `make test` (lint and the whole test suite). Both install first; as
# root, `make test` also installs bubblewrap with apt-get (`make test SYSTEM_PACKAGES=no`
# does not).
# `make test-fast` runs the tests that start no process (under a minute).
# `make bench` runs the benchmark (bench/README.md). `make tools` installs the tools the
# tests run from their own environment (requirements-tools.txt says why). `make lock`
# regenerates the hash-pinned locks from pyproject.toml. `make clean` removes what make made.
#
# .venv is made from requirements-dev.txt: the production lock's pins (requirements.txt)
# plus the test tools, so that the suite runs on the versions production runs. It takes
# about 350 MB, .venv-tools about 290 MB, .cache/platforms (the deploy tests) about 250 MB.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
PIP_FLAGS := --disable-pip-version-check --no-input
UV_COMPILE := $(TOOLS)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes

.PHONY: install tools run test test-fast bench lock clean python system-packages

# One line and exit 2 when the interpreter is too old (pip would otherwise search for
# minutes for versions that run on it, and find none).
python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "make: psc-token-hook needs Python 3.11 or newer; $(PYTHON) is" \
	    "$$($(PYTHON) --version 2>&1 || echo missing). Run: make PYTHON=python3.11 ..." >&2; \
	  exit 2; }

# A failed install leaves no half-made virtual environment behind, and shows pip's output.
define make_venv
	rm -rf $(1)
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install $(PIP_FLAGS) $(2) > $(1).log 2>&1 || { \
	  cat $(1).log >&2; rm -rf $(1) $(1).log; \
	  echo "make: installing $(1) failed (pip's output above)" >&2; exit 2; }
	rm -f $(1).log
endef

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt | python
	$(call make_venv,$(VENV),--require-hashes --requirement requirements-dev.txt)
	$(VENV)/bin/pip install $(PIP_FLAGS) --quiet --no-deps --editable . || { \
	  rm -rf $(VENV); exit 2; }
	touch $(STAMP)

install: $(STAMP)

$(TOOLS_STAMP): requirements-tools.txt | python
	$(call make_venv,$(TOOLS),--requirement requirements-tools.txt)
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

# The deploy tests run the image's command under bubblewrap (Debian's package), as the
# container would run it. As root with apt-get (CI), install it, unless SYSTEM_PACKAGES=no
# (the machine's packages are then left alone); elsewhere say so.
SYSTEM_PACKAGES ?= yes
system-packages:
	@case "$(SYSTEM_PACKAGES)" in yes|no) ;; *) \
	  echo "make: SYSTEM_PACKAGES must be yes or no, not '$(SYSTEM_PACKAGES)'" >&2; exit 2;; esac
	@command -v bwrap >/dev/null || { \
	  if [ "$(SYSTEM_PACKAGES)" = yes ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null || exit 2; \
	  else \
	    echo "make: bubblewrap (bwrap) is missing: the container-image test will be skipped" >&2; \
	  fi; }

run: $(STAMP)
	$(VENV)/bin/psc-hook serve --demo

test: $(STAMP) $(TOOLS_STAMP) system-packages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

# The tests that start no process nor server (the `process` marker, tests/support/__init__.py
# says which): under a minute, without the tools' environment nor bubblewrap.
test-fast: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -m "not process"

bench: $(STAMP)
	bash bench/run.sh

lock: $(TOOLS_STAMP)
	$(UV_COMPILE) --output-file requirements.txt
	$(UV_COMPILE) --extra test --constraint requirements.txt --output-file requirements-dev.txt

clean:
	rm -rf $(VENV) $(VENV).log $(TOOLS) $(TOOLS).log .cache .pytest_cache .ruff_cache \
	  .hypothesis
