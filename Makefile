# Two commands for a newcomer: `make run` (chat UI on http://127.0.0.1:7860) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup index run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel on this disk, never a CUDA build chosen by pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

setup: $(STAMP)

index: setup
	$(BIN)/report-qa index

run: index
	$(BIN)/report-qa serve --host $(HOST) --port $(PORT)

test: index
	$(BIN)/python -m pytest

bench: index
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache artifacts
