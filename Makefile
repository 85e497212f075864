# Two entry points for a fresh machine (see README):
#   make demo   install everything, analyze the bundled example sessions
#   make test   install everything, run lint, type check and the full test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: setup demo test lint typecheck pytest bench clean encoder models

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the local CPU build first so no resolver ever pulls another one.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

setup: $(STAMP) encoder

# The fast static encoder is distilled offline from the packaged MiniLM (about 20 s, once).
encoder: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/attune build-encoder --quiet

demo: setup
	@mkdir -p $(OUT)
	HF_HUB_OFFLINE=1 $(BIN)/attune analyze src/attunement/examples/sessions/* --html $(OUT)/ --json $(OUT)/
	@echo "Reports written to $(OUT)/"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

test: lint typecheck pytest

# Rebuild the bundled coding models from corpus v2 (default: e5, ~6 min; fast: static, ~1 min).
models: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m attunement.coding.build_default
	HF_HUB_OFFLINE=1 $(BIN)/python -m attunement.coding.build_default --encoder static \
		--out src/attunement/coding/models/fast

bench: setup
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
