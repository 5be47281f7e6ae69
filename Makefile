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

# The default recipe at its smoke-test size (see README "Recipes" for the full size).
DEMO_OPTS ?= --data_opts "--size quick" \
	--dense_args "--max_epoch 6 --scheduler_conf warmup_steps=40" \
	--gated_args "--max_epoch 2"

demo: install
	cd egs2/synth_multiling/s2t1 && PATH=$(abspath $(VENV))/bin:$$PATH \
		OMP_NUM_THREADS=1 ./run.sh $(DEMO_OPTS)

lint: install
	$(PYTHON) -m ruff check .

test: lint
	$(PYTHON) -m pytest -q

clean:
	rm -rf egs2/synth_multiling/s2t1/data egs2/synth_multiling/s2t1/exp
