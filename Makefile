# boligmix: two commands for a new user, `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-output
SEED   ?= 1

.PHONY: demo test install install-test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make demo: synthetic Denmark -> pipeline -> HTML report (path printed at the end)
demo: install
	$(BIN)/boligmix demo --out $(DEMO_DIR) --seed $(SEED)

## make test: the whole suite (starts the services it needs on loopback)
# PostgreSQL runs from .pg/ on 127.0.0.1 (scripts/test-postgres.sh) and is stopped afterwards,
# also when the tests fail or are interrupted. The national-scale list check
# (tests/test_national_lists.py, about 3 minutes and 7 GB) runs on one worker beside the rest;
# `make test NATIONAL=0` leaves it out.
NATIONAL ?= 1
test: install-test
	@set -e; trap 'bash scripts/test-postgres.sh stop' EXIT; \
	BOLIGMIX_TEST_PG_URL="$$(bash scripts/test-postgres.sh start)"; \
	export BOLIGMIX_TEST_PG_URL; \
	BOLIGMIX_RUN_NATIONAL=$(NATIONAL) $(PY) -m pytest -n 2 -q --durations=5

clean:
	bash scripts/test-postgres.sh destroy
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .hypothesis
