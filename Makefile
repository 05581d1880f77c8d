# snnc — two commands do everything on a fresh machine:
#   make demo    train vanilla + ASA on synthetic events, compile, simulate with energy report
#   make test    the test suite (what CI runs)
# Both install what they need into .venv first (make install; idempotent, quick when nothing changed).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.snnc-installed
DEMO   ?= build/demo
export OMP_NUM_THREADS ?= 2

.PHONY: install test test-all test-lava bench demo clean golden paper-tables

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	@# lava-nc 0.10.0 declares Python <3.11: install it alone, its dependency pins are in pyproject.toml.
	@# Its one 3.11 incompatibility is handled in backends/lava/compat.py (no site-packages edits).
	$(BIN)/python -m pip install -q --no-deps --ignore-requires-python lava-nc==0.10.0 lava-dl==0.6.0
	@touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q -n 2

test-all: install
	$(BIN)/python -m pytest -q -n 2 -m ""

bench: install
	$(BIN)/python bench/run_all.py

golden: install
	$(BIN)/python tests/golden/regenerate.py

demo: install
	$(BIN)/python -m snnc.demo --out $(DEMO)

paper-tables: install
	$(BIN)/snnc experiment --out build/experiment --doc docs/paper-tables.md

clean:
	rm -rf build .pytest_cache
