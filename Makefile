# Two commands on a fresh machine: `make demo` (the main job) and `make test`.
#
# The interpreter is the newest supported one here (tools/find_python.sh: 3.13,
# 3.12 -> espnet 202611; 3.11, 3.10 -> espnet 202511); `make PYTHON=python3.11 ...`
# picks another. Each interpreter gets its own .venv-pyX.Y, installed with that
# release line's constraints/espnet-*.txt; .venv links to the one used last.
PYTHON ?= $(shell tools/find_python.sh)
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ESPNET_LINE := $(if $(filter 3.10 3.11,$(PY_VERSION)),202511,202611)
CONSTRAINTS := constraints/espnet-$(ESPNET_LINE).txt
VENV ?= .venv-py$(PY_VERSION)
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.espnet_dynprune-installed

.PHONY: install demo demo-quick test test-fast lint clean

install: $(STAMP)
	ln -sfn $(VENV) .venv

$(STAMP): setup.py $(CONSTRAINTS)
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install -q "pip<26.3"
	$(VENV_PYTHON) -m pip install -q -c $(CONSTRAINTS) torch torchaudio espnet
	$(VENV_PYTHON) -m pip install -q -c $(CONSTRAINTS) -e ".[test]"
	touch $@

# The default recipe, end to end (README "Recipes"); demo-quick is its smoke-test size.
RECIPE := egs2/synth_multiling/s2t1
RUN := cd $(RECIPE) && PATH=$(abspath $(VENV))/bin:$$PATH ./run.sh

demo: install
	$(RUN)

demo-quick: install
	$(RUN) --quick

lint: install
	$(VENV_PYTHON) -m ruff check .

test: lint
	$(VENV_PYTHON) -m pytest -q

# The suite without the tests marked slow (CI runs it on the other release line).
test-fast: lint
	$(VENV_PYTHON) -m pytest -q -m "not slow"

clean:
	rm -rf $(RECIPE)/data $(RECIPE)/exp $(RECIPE)/data_quick $(RECIPE)/exp_quick
