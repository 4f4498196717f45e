# Two commands for a newcomer: `make run` (chat UI on http://127.0.0.1:7860) and `make test`.
# The interpreter of a new .venv: Debian's python3.11 when it can make one (built with PGO and LTO,
# it runs jieba and the answer checks about a fifth faster than a plain source build), else python3.
PYTHON ?= $(shell /usr/bin/python3.11 -c 'import ensurepip' 2>/dev/null && echo /usr/bin/python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup index run test browser-deps bench clean

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

test: index browser-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=10

# The browser and PDF tests need Debian's chromium and fonts-noto-cjk: installed here when missing
# and running as root, else named in one line (those tests then skip).
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk; \
	else echo "report-qa: install chromium and fonts-noto-cjk (apt-get) for the browser and PDF tests; they are skipped"; fi

bench: index
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache artifacts
