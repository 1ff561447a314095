# BrightKitchen: `make demo` runs the whole system; `make test` installs what the tests need and runs them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export ORT_DISABLE_TELEMETRY := 1
export YOLO_OFFLINE := 1
export BK_TEST_DATABASE_URL ?= postgresql+psycopg://bk_test:bk_test@127.0.0.1:5432/postgres

.PHONY: install install-demo install-train system-packages lint test demo bench model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[edge,api]"
	touch $@

TRAIN_VENV := .venv-train

# Training needs torch (CPU works: torch 2.14.1 with torchvision 0.29.1) and ultralytics, in a venv
# of its own so that the edge and the API never carry them.
$(TRAIN_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/pip install -q --upgrade pip
	$(TRAIN_VENV)/bin/pip install -q -e ".[train]"
	touch $@

install-train: $(TRAIN_VENV)/.installed

# Reproduce the shipped kitchen model from scratch: generate data, convert the real face-mask set,
# train, export models/kitchen/model.onnx, evaluate and write its model card.
model: install-train
	$(TRAIN_VENV)/bin/python -m training.pipeline

system-packages:
	bash scripts/install-system-packages.sh test

install: system-packages $(VENV)/.installed-dev

install-demo: $(VENV)/.installed-demo
	bash scripts/install-system-packages.sh demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install
	bash scripts/ensure-postgres.sh
	$(MAKE) lint
	$(BIN)/pytest -q

demo: install-demo
	$(BIN)/brightkitchen demo

BENCH_DB := postgresql+psycopg://bk_test:bk_test@127.0.0.1:5432/bk_bench

bench: install
	bash scripts/ensure-postgres.sh
	$(BIN)/python -m bench.detector
	PGPASSWORD=bk_test psql -qh 127.0.0.1 -U bk_test -d postgres -c "DROP DATABASE IF EXISTS bk_bench" -c "CREATE DATABASE bk_bench"
	$(BIN)/python -m bench.ingest --postgres $(BENCH_DB)
	PGPASSWORD=bk_test psql -qh 127.0.0.1 -U bk_test -d postgres -c "DROP DATABASE IF EXISTS bk_bench"
	$(BIN)/python -m bench.alerts
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.edge_latency
	$(BIN)/python -m bench.edge_capacity
	@if [ -x $(TRAIN_VENV)/bin/python ]; then $(TRAIN_VENV)/bin/python -m bench.detector_vs_ultralytics; \
	else echo "bench.detector_vs_ultralytics needs ultralytics: make install-train first"; fi

clean:
	rm -rf .demo var .pytest_cache .mypy_cache .ruff_cache
