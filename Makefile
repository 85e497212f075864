# Two entry points for a fresh machine (see README):
#   make demo   install everything, start the clinic app with a demo clinic (docs/app.md)
#   make test   install everything, run lint, type check and the full test suite
# `make report` is the CLI path: analyze the bundled example sessions into out/.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: setup demo report test lint typecheck pytest bench clean encoder models fuzz chromium espeak \
	screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned to the local CPU build first so no resolver ever pulls another one.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[all,dev]'
	touch $(STAMP)

setup: $(STAMP) encoder chromium espeak

# Browser tests drive Debian's chromium through Playwright (`executable_path`); Playwright's
# own browser download is never used. Installed once, only when missing (needs root/apt).
chromium:
	@test -x /usr/bin/chromium || apt-get install -y chromium

# The audio tests speak a written session with espeak-ng's voices (test audio made by the
# project itself; docs/audio.md). Installed once, only when missing.
espeak:
	@test -x /usr/bin/espeak-ng || apt-get install -y espeak-ng

# The fast static encoder is distilled offline from the packaged MiniLM (about 20 s, once).
encoder: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/attune build-encoder --quiet

# The clinic app on SQLite with a fresh demo clinic in demo-clinic/ (fictional data); prints
# the address and the demo sign-ins. DEMO_PORT=8000, DEMO_HOST=127.0.0.1 by default.
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
demo: setup
	HF_HUB_OFFLINE=1 $(BIN)/attune serve --demo --demo-dir demo-clinic --fast \
		--host $(DEMO_HOST) --port $(DEMO_PORT)

report: setup
	@mkdir -p $(OUT)
	HF_HUB_OFFLINE=1 $(BIN)/attune analyze src/attunement/examples/sessions/* --html $(OUT)/ --json $(OUT)/
	@echo "Reports written to $(OUT)/"

# Re-take docs/screenshots/*.png in headless chromium (the browser tests with a flag).
screenshots: setup
	HF_HUB_OFFLINE=1 ATTUNEMENT_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest \
		tests/web/test_browser.py tests/web/test_browser_features.py -q -p no:randomly

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

# Hostile-input benchmark (issue 8): FUZZ_INPUTS inputs in one worker per core, summary in
# benchmarks/results/fuzz.json and docs/benchmarks.md; reproducers in benchmarks/fuzz-crashes/.
FUZZ_INPUTS ?= 100000
fuzz: setup
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/fuzz.py --inputs $(FUZZ_INPUTS) \
		--json benchmarks/results/fuzz.json
	$(BIN)/python benchmarks/render_docs.py

clean:
	rm -rf $(VENV) $(OUT) demo-clinic .pytest_cache .mypy_cache .ruff_cache
