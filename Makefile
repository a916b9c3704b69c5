# boligmix: two commands for a new user, `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
DEMO_DIR ?= demo-output
SEED   ?= 1

.PHONY: demo test test-national install install-test system-packages clean

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
	@echo "Dashboard on the demo data: $(BIN)/boligmix serve --data $(DEMO_DIR)/data"
	@echo "  then open http://127.0.0.1:8000/ (English: http://127.0.0.1:8000/?lang=en)"
	@echo "Printable list report: $(BIN)/boligmix report lists --data $(DEMO_DIR)/data --year 2024 --out lists-2024.pdf"

## Debian packages: Chromium for the browser tests, pango/harfbuzz and a font for WeasyPrint (PDF reports).
## Installed with apt when missing (as root, like scripts/test-postgres.sh does for PostgreSQL).
SYSTEM_PACKAGES := chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -ne 0 ]; then echo "missing Debian packages:$$missing (run as root or: apt-get install -y$$missing)" >&2; exit 1; fi; \
	  echo "installing$$missing" >&2; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >&2; \
	fi

## make test: the whole suite (starts the services it needs on loopback)
# PostgreSQL runs from .pg/ on 127.0.0.1 (scripts/test-postgres.sh) and is stopped afterwards,
# also when the tests fail or are interrupted. The national-scale list check is its own target
# (`make test-national`): it generates the national synthetic dataset (minutes of CPU on both cores
# and 7 GB), which would put the suite over 15 minutes; CI (.ci/run) runs both.
test: install-test system-packages
	@set -e; trap 'bash scripts/test-postgres.sh stop' EXIT; \
	BOLIGMIX_TEST_PG_URL="$$(bash scripts/test-postgres.sh start)"; \
	export BOLIGMIX_TEST_PG_URL; \
	$(PY) -m ruff check src tests benchmarks scripts; \
	$(PY) -m pytest -n 2 -q --durations=30 -m "not national"

## make test-national: the official lists 2010-2024 and the population and mobility figures of a
## generated national synthetic Denmark against the published figures (tests/test_national_lists.py)
test-national: install-test
	$(PY) -m pytest -q --durations=5 -m national tests/test_national_lists.py

clean:
	bash scripts/test-postgres.sh destroy
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .hypothesis
