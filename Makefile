# Hygeia developer tasks. Every target makes .venv first if it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install -q
BENCH_N ?= 10000
# persons of 'make demo' (the README test runs it on fewer)
DEMO_N ?= 1000
BENCH_OUT ?= build/bench
# pytest-xdist workers of 'make test' (each test file runs whole in one worker)
TEST_WORKERS ?= 2

.PHONY: demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamps: reinstall only when pyproject.toml changes. The first install takes a minute or
# two: pip prints each package it collects and a progress bar for each download.
$(VENV)/.installed: pyproject.toml | $(PY)
	@echo "Installing Hygeia and its dependencies into $(VENV) (a minute or two the first time)..."
	$(PY) -m pip install --progress-bar on -e .
	@touch $@

# Test-time references installed without their pins: molsets (MOSES data files only), pharmpy-core
# (LGPL-3.0; only its NONMEM phenobarbital data file is read, the package is never imported) and
# anonymeter (MIT, the reference for the privacy attacks; its metadata pins numpy<1.27 and
# pyarrow<22 although it runs on numpy 2), whose own needs numba and polars are resolved with the
# test extra; simglucose 0.2.11 (MIT, the reference of the glucose twin; only its patient core is
# imported: its gym pins no longer install beside gymnasium 1.x); molscore 1.9.5 (MIT; only its copies
# of TDC's DRD2, GSK3B and JNK3 classifier files are read, as data, the package is never imported).
# Two pip runs, not six. pip
# byte-compiles what it installs: keep it, since where PYTHONDONTWRITEBYTECODE is set (as on CI's
# machines) a module without its .pyc is compiled again in every process that imports it (3x the import
# time of hygeia's CLI with pandas and scikit-learn), and the suite starts hundreds of processes.
$(VENV)/.installed-test: pyproject.toml Makefile | $(PY)
	$(PIP) -e '.[test]' 'numba>=0.59' 'polars>=1.8'
	$(PIP) --no-deps molsets==0.3.1 anonymeter==1.1.0 pharmpy-core==2.1.1 simglucose==0.2.11 molscore==1.9.5
	@touch $@ $(VENV)/.installed

# Every example writes under runs/ (git-ignored, removed by 'make clean').
demo: $(VENV)/.installed
	$(VENV)/bin/hygeia generate -n $(DEMO_N) --seed 1 --out runs/demo --overwrite --workers 2
	$(VENV)/bin/hygeia inspect runs/demo

# The tests use a real PostgreSQL server and a real headless Chromium: both are
# installed with apt-get when missing (root), and the server is stopped at the end.
test: $(VENV)/.installed-test
	DEBIAN_FRONTEND=noninteractive scripts/ensure-chromium.sh >/dev/null
	@url=$$(DEBIAN_FRONTEND=noninteractive scripts/test-postgres.sh) || exit 1; \
	HYGEIA_TEST_POSTGRES_URL="$$url" $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder; rc=$$?; \
	scripts/test-postgres.sh stop "$$url" >/dev/null 2>&1; exit $$rc

bench: $(VENV)/.installed
	$(VENV)/bin/hygeia generate -n $(BENCH_N) --seed 1 --out $(BENCH_OUT) --overwrite
	$(VENV)/bin/hygeia inspect $(BENCH_OUT) | head -n 6

clean:
	rm -rf runs output build dist
