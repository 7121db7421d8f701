# provkit: two commands from a fresh clone.
#   make run   -> virtualenv, install, initialise the store, serve the API on 127.0.0.1:8000
#   make test  -> virtualenv, install with dev tools, ruff, mypy, pytest

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PACKAGES := provenance watermark screening service
# the test install adds a CPU-only torch build when the package index offers one (a local
# version: never the multi-GB CUDA wheels), so that the accelerator's tests run; without it they skip
TORCH_CPU ?= torch==2.13.0+cpu

.PHONY: run test lint typecheck pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet '$(TORCH_CPU)' >/dev/null 2>&1 \
	  || echo "note: no CPU-only torch build ($(TORCH_CPU)) on the package index: accelerator tests skip"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/provkit serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy $(PACKAGES)

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
