# The README's two commands: `make run` (install, then scan the shipped samples) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench samples model clean

install: $(VENV)/.installed

# invisible-watermark declares an unpinned torch (GBs of CUDA wheels): install it without dependencies; the
# test suite uses it only to embed reference marks, and everything it needs at that point is installed already.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,train]"
	$(BIN)/python -m pip install --quiet --no-deps invisible-watermark==0.2.0
	touch $@

run: install
	$(BIN)/realeyes scan samples

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/bench_scan.py

# The model pipeline on ../shared/data (prepare -> train -> export; docs/MODELS.md). About 45 minutes on 2 cores.
RUN ?= runs/classifier
VERSION ?= 0.1.0
model: install
	$(BIN)/realeyes data prepare --workdir $(RUN)
	$(BIN)/realeyes train --workdir $(RUN) --minutes 35 --eval-every 300
	$(BIN)/realeyes export --workdir $(RUN) --version $(VERSION)

samples: install
	$(BIN)/python scripts/make_samples.py samples

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
