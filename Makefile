# Every target installs its virtualenvs itself (and system-packages its Debian packages); README.md
# lists what nothing here installs: Python, Java + the Pub/Sub emulator, kubectl.
PYTHON ?= python3
# Django 6 needs Python 3.12+: take the first one found (pyenv installs count).
PYTHON_DJANGO6 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12 $(HOME)/.pyenv/versions/3.13*/bin/python3.13) $(shell command -v python3.12 python3.13 2>/dev/null))
VENV := .venv
VENV_DJANGO6 := .venv-django6
PY := $(VENV)/bin/python

.PHONY: demo admin-demo test test-fast test-django6 lint format chart-docs admin-screenshots system-packages bench bench-quick bench-instructions bench-plot bench-docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[controller,django,backport,test,dev]' 'Django>=5.2,<6'
	touch $@

# Lean: the base package as a Django app installs it, without the controller extra (no kopf).
$(VENV_DJANGO6)/.installed: pyproject.toml
	@test -n "$(PYTHON_DJANGO6)" || { echo "Django 6 needs Python 3.12+; none found (set PYTHON_DJANGO6)" >&2; exit 1; }
	rm -rf $(VENV_DJANGO6)  # built afresh: pip never uninstalls what an older pyproject.toml brought
	$(PYTHON_DJANGO6) -m venv $(VENV_DJANGO6)
	$(VENV_DJANGO6)/bin/pip install --quiet --upgrade pip
	$(VENV_DJANGO6)/bin/pip install --quiet -e '.[django,test]' 'Django>=6,<7'
	touch $@

## The main job: emulators + example app registry + controller, with drift found and fixed.
demo: $(VENV)/.installed
	$(PY) -m examples.demo

## The example shop's admin, live: emulators, the app (log in as admin/admin), the controller.
admin-demo: $(VENV)/.installed
	$(PY) -m examples.admin_site

## Debian packages the tests drive for real, installed when missing (as root, as CI runs):
## headless Chromium and its driver (the admin's end-to-end tests and screenshots) and the
## PostgreSQL server (the lease race runs on a throwaway cluster).
system-packages:
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver && command -v valgrind >/dev/null \
		&& ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
		apt-get update && apt-get install -y chromium chromium-driver postgresql valgrind; }

## Everything: lint, the whole suite on Django 5.2, the Django tests again on Django 6 in a lean
## install (without the controller extra, which tests/test_installs.py checks).
test: lint test-fast test-django6

test-fast: $(VENV)/.installed system-packages
	$(PY) -m pytest

test-django6: $(VENV_DJANGO6)/.installed
	$(VENV_DJANGO6)/bin/python -m pytest --lean tests/django_integration tests/test_installs.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## The values table of charts/gcp-tasks-controller/README.md, from the comments in values.yaml.
chart-docs: $(VENV)/.installed
	$(PY) -m tools.chart_docs

## docs/images/admin-*.png, taken from the live example admin in headless Chromium.
admin-screenshots: $(VENV)/.installed system-packages
	$(PY) -m tools.admin_screenshots

## Benchmarks (table on stdout, JSON in .bench/results.json); e.g. BENCH_ARGS="--only reconcile".

bench: $(VENV)/.installed
	$(PY) -m benchmarks $(BENCH_ARGS)

bench-quick: $(VENV)/.installed
	$(PY) -m benchmarks --quick $(BENCH_ARGS)

## The task endpoint's instructions per request beside the bare view, by valgrind's callgrind
## (valgrind is not installed by any target: bring it).
bench-instructions: $(VENV)/.installed system-packages
	$(PY) -m benchmarks.instructions $(BENCH_ARGS)

## The reconcile scale curve (docs/performance-scale.svg), drawn from .bench/results.json.
bench-plot: $(VENV)/.installed
	$(PY) -m benchmarks.plotting

## docs/performance.md's generated tables (and the plot) from .bench/results.json.
bench-docs: bench-plot
	$(PY) -m benchmarks.documenting

clean:
	rm -rf $(VENV) $(VENV_DJANGO6) *.egg-info .pytest_cache .ruff_cache .mypy_cache
