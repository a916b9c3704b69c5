# boligmix: two commands for a new user, `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-output
SEED   ?= 20241201

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
test: install-test
	$(PY) -m pytest -n 2 -q

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .hypothesis
