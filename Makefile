# Two commands on a fresh machine: `make demo` (the main job) and `make test`.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.espnet_dynprune-installed

.PHONY: install demo demo-quick test lint clean

install: $(STAMP)

$(STAMP): setup.py constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q "pip<26.3"
	$(PYTHON) -m pip install -q -c constraints.txt torch torchaudio espnet
	$(PYTHON) -m pip install -q -c constraints.txt -e ".[test]"
	touch $@

# The default recipe, end to end (README "Recipes"); demo-quick is its smoke-test size.
RECIPE := egs2/synth_multiling/s2t1
RUN := cd $(RECIPE) && PATH=$(abspath $(VENV))/bin:$$PATH ./run.sh

demo: install
	$(RUN)

demo-quick: install
	$(RUN) --quick

lint: install
	$(PYTHON) -m ruff check .

test: lint
	$(PYTHON) -m pytest -q

clean:
	rm -rf $(RECIPE)/data $(RECIPE)/exp $(RECIPE)/data_quick $(RECIPE)/exp_quick
