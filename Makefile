# One-command entry points. `make serve` and `make test` create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# llama-cpp-python builds from source; these flags make the build faster and portable.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF

.PHONY: install serve test lint chromium bench-setup

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@echo ">> installing chatkeep; llama-cpp-python compiles from source the first time (about 5 minutes on 2 cores)"
	$(BIN)/pip install --progress-bar on -e '.[embedded,test]'
	@touch $@

install: $(STAMP)

serve: install
	$(BIN)/chatkeep serve

lint: install
	$(BIN)/ruff check src tests bench training
	$(BIN)/ruff format --check src tests bench training
	$(BIN)/mypy

# The console's end-to-end tests drive Debian's chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || (echo ">> installing chromium for the console's browser tests" && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: lint chromium
	$(BIN)/pytest -n 3 --dist loadfile

# Benchmarks need the [bench] extra, and LiteLLM (the peer) in a virtualenv of its own: it pins an older
# `openai` than chatkeep. LiteLLM gets its fastest serving stack (uvicorn picks uvloop and httptools up).
bench-setup: install
	$(BIN)/pip install --quiet -e '.[bench]'
	test -x bench/.venvs/litellm/bin/pip || $(PYTHON) -m venv bench/.venvs/litellm
	bench/.venvs/litellm/bin/pip install --quiet 'litellm[proxy]' uvloop httptools
