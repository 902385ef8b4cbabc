# Two commands matter: `make lab` opens the course, `make test` runs every test.
# Both create (or reuse) the virtual environment .venv from pyproject.toml by themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# mermaid's browser build, served by the course site (make site); fetched with npm once.
MERMAID_VERSION := 11.12.2
MERMAID_JS := $(VENV)/share/mermaid/mermaid.min.js

.PHONY: lab test test-fast test-notebooks test-browser test-nbgrader notebooks exercises site site-tools bench clean help

help:
	@echo "make lab        open the course in JupyterLab"
	@echo "make test       run the whole test suite (library, notebooks with nbval, graders, browser, nbgrader)"
	@echo "make test-fast  the library tests only (no notebooks, grading or browser)"
	@echo "make test-notebooks  nbval on the course notebooks"
	@echo "make test-browser    dashboard, diagrams (JupyterLab, Notebook 7), site: headless Chromium"
	@echo "make test-nbgrader   real nbgrader 0.9 (own venv) and choreo-lab grade give the same scores"
	@echo "make notebooks  re-execute and save every course notebook (after changing the library)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make site       build the course's static site into build/site (works offline)"
	@echo "make bench      run the benchmarks in bench/"

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,browser,site,nats]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/choreo-lab lab .

# Two workers; loadscope keeps each notebook's cells (and each module's fixtures) on one worker.
# Then real nbgrader must give the grades `choreo-lab grade` gives (about 2 minutes).
test: $(STAMP) site-tools
	$(BIN)/python -m pytest -n 2 --dist loadscope
	$(MAKE) --no-print-directory test-nbgrader

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser and not notebooks" --ignore=tests/grading

test-notebooks: $(STAMP)
	$(BIN)/python -m pytest notebooks tests/notebooks

notebooks: $(STAMP)
	$(BIN)/python tests/notebooks/refresh.py

test-browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser -m browser

# nbgrader enables server and lab extensions wherever it is installed: it gets a venv of its own.
NBGRADER_VENV := .venv-nbgrader
NBGRADER_STAMP := $(NBGRADER_VENV)/.installed-stamp

$(NBGRADER_STAMP): pyproject.toml
	@test -x $(NBGRADER_VENV)/bin/python || $(PYTHON) -m venv $(NBGRADER_VENV)
	$(NBGRADER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(NBGRADER_VENV)/bin/python -m pip install --quiet 'nbgrader>=0.9,<0.10' -e .
	@touch $(NBGRADER_STAMP)

test-nbgrader: $(NBGRADER_STAMP)
	PATH=$(CURDIR)/$(NBGRADER_VENV)/bin:$$PATH $(NBGRADER_VENV)/bin/python tests/nbgrader/agreement.py

exercises: $(STAMP)
	$(BIN)/choreo-lab exercises

site: $(STAMP) $(MERMAID_JS)
	$(BIN)/python docs/site/build.py --out build/site

$(MERMAID_JS): Makefile | $(STAMP)
	sh docs/site/fetch_mermaid.sh $(MERMAID_VERSION) $@

# For make test: without npm (a laptop that is not root) the site tests skip and say why.
site-tools: | $(STAMP)
	@$(MAKE) --no-print-directory $(MERMAID_JS) || echo "no mermaid build: the site tests will skip"

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/peers.py
	$(BIN)/python bench/throughput.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/chaos.py
	$(BIN)/python bench/dashboard_refresh.py
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/grading.py
	$(BIN)/python bench/nats.py

clean:
	rm -rf $(VENV) $(NBGRADER_VENV) .pytest_cache build dist *.egg-info choreo_lab/course
