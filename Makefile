# The two commands a learner needs: `make run` and `make test`.
# Every target creates .venv and installs the project into it first, when needed, and
# recreates the release tags from releases.toml (make tags).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FULL   := $(VENV)/.installed-full

.PHONY: run test lint pytest docs docs-build figures tags check-releases stress-test bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	@touch $(STAMP)

# The optional extras as well: Playwright (browser tests, the dashboard's screenshot) and
# matplotlib (the benchmarks' plots). CI, stress-test, figures and bench install them; make
# test skips the tests that need them (with CI=true, those tests fail instead).
$(FULL): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,docs,browser,bench]'
	@touch $(FULL)

## tags: recreate the release tags from releases.toml (every target below runs it first)
tags: $(STAMP)
	@$(BIN)/python tools/releases.py tags

## check-releases: each release's commit, version and stages, and its own tests (CI runs it)
check-releases: tags
	$(BIN)/python tools/releases.py check

## run: start a registry and three v3.0 nodes on loopback; they elect a leader by majority vote, and every write is an entry of a replicated log, on each node's disk (Ctrl-C stops them all)
run: $(STAMP) tags
	$(BIN)/ddb v3 demo --nodes 3

## test: lint, the whole test suite, and a strict docs build
test: lint pytest docs-build

lint: $(STAMP) tags
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: $(STAMP) tags
	$(BIN)/pytest

docs-build: $(STAMP) tags
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

## docs: serve the docs site on http://127.0.0.1:8000
docs: $(STAMP) tags
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

## figures: redraw the simulator's and the checker's diagrams in docs/figures (tests check they are current),
## and take the dashboard's screenshots, v2.1's and v3's (real demos in Debian's Chromium, driven by Playwright)
figures: $(FULL) tags
	$(BIN)/python -m workbench.sim.figures
	$(BIN)/python -m workbench.history.figures
	$(BIN)/python -m tests.dashboard_figure

## stress-test: the whole suite N times (default 5) beside a CPU hog on every core; lists each failure
## (with CI=true, as CI runs it, it needs Chromium, wrk, curl and ip, which .ci/run installs)
N ?= 5
stress-test: $(FULL) tags
	$(BIN)/python -m tests.stress --runs $(N)

## bench: benchmarks, each against a baseline in the same run; rewrites docs/benchmarks.md and
## its plots (about 15 minutes on two cores; QUICK=1: a short version, about 3 minutes)
bench: $(FULL) tags
	@bash bench/setup.sh
	$(BIN)/python -m bench --mode $(if $(QUICK),quick,full)

clean:
	rm -rf $(VENV) site .pytest_cache .ruff_cache
