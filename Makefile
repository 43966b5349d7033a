# Two commands matter: `make demo` (offline demo) and `make test` (the test suite).
# Both create .venv on first use: torch 2.13.0 (CPU wheel) first, then xrobust with its dev extra.
VENV ?= .venv
PY := $(VENV)/bin/python
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

.PHONY: setup demo test clean
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(OFFLINE) $(VENV)/bin/xrobust demo

test: setup
	$(OFFLINE) $(PY) -m pytest

clean:
	rm -rf $(VENV) reports/runs build *.egg-info
