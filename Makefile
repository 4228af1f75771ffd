# The two commands a learner needs: `make run` and `make test`.
# Every target creates .venv and installs the project into it first, when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint pytest docs docs-build figures stress-test clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	@touch $(STAMP)

## run: start a registry and three v2.1 nodes on loopback; they elect a leader (Ctrl-C stops them all)
run: $(STAMP)
	$(BIN)/ddb v2.1 demo --nodes 3

## test: lint, the whole test suite, and a strict docs build
test: lint pytest docs-build

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

pytest: $(STAMP)
	$(BIN)/pytest

docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

## docs: serve the docs site on http://127.0.0.1:8000
docs: $(STAMP)
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

## figures: redraw the simulator's diagrams in docs/figures (a test checks they are current)
figures: $(STAMP)
	$(BIN)/python -m stages.v2_1_election.sim.figures

## stress-test: the whole suite N times (default 5) beside a CPU hog on every core; lists each failure
N ?= 5
stress-test: $(STAMP)
	$(BIN)/python -m tests.stress --runs $(N)

clean:
	rm -rf $(VENV) site .pytest_cache .ruff_cache
