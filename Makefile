# Two commands on a fresh machine: `make demo` (the main job) and `make test`.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.espnet_dynprune-installed

.PHONY: install demo test lint clean

install: $(STAMP)

$(STAMP): setup.py constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q "pip<26.3"
	$(PYTHON) -m pip install -q -c constraints.txt torch torchaudio espnet
	$(PYTHON) -m pip install -q -c constraints.txt -e ".[test]"
	touch $@

demo: install
	cd egs2/toy/s2t1 && PATH=$(abspath $(VENV))/bin:$$PATH ./run.sh

lint: install
	$(PYTHON) -m ruff check .

test: lint
	$(PYTHON) -m pytest -q

clean:
	rm -rf egs2/toy/s2t1/data egs2/toy/s2t1/dump egs2/toy/s2t1/exp
