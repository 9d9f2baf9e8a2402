# Nimbus multilingual support assistant. `make help` lists every target.
# Two commands do all set-up on a fresh machine: `make run` and `make test`.

SHELL := /bin/bash
PYTHON ?= python3.11
VENVS := .venvs
RASA_VENV := $(VENVS)/rasa
SVC_VENV := $(VENVS)/svc
RASA_PY := $(RASA_VENV)/bin/python
SVC_PY := $(SVC_VENV)/bin/python
RASA_BIN := $(RASA_VENV)/bin/rasa
MODEL := models/nimbus.tar.gz

export PYTHONPATH := $(CURDIR)
export RASA_TELEMETRY_ENABLED := false
export PYTHONWARNINGS ?= ignore
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export RASA_PORT ?= 5005
export ACTIONS_PORT ?= 5055
export TRANSLATOR_PORT ?= 5070
export TRANSLATOR_URL ?= http://127.0.0.1:$(TRANSLATOR_PORT)
export MODEL SVC_PY RASA_BIN

CONTENT := $(wildcard data/*.yml data/faq/*.yml data/intents/*.yml data/rasa/*.yml)
MODEL_INPUTS := $(CONTENT) config.yml bot/domain.yml $(wildcard bot/*.py bot/components/*.py)
RASA_DATA := build/rasa/data data/rasa
PY_SOURCES := bot actions translator handoff tests scripts bench

.DEFAULT_GOAL := help
.PHONY: help setup run test validate train compile test-python test-stories lint bench bench-fast bench-banking77 translation-model clean

help: ## List every target
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

# --- environments ---------------------------------------------------------

$(RASA_VENV)/.installed: requirements/rasa.lock requirements/pip-check-known.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(RASA_VENV)
	# Rasa 3.6 declares Requires-Python <3.11 but runs on 3.11: install the
	# pinned, known-good set without the resolver (see docs/dependencies.md).
	$(RASA_PY) -m pip install --quiet --no-deps --ignore-requires-python -r requirements/rasa.lock
	$(PYTHON) scripts/pip_check.py $(RASA_VENV)
	touch $@

$(SVC_VENV)/.installed: requirements/svc.lock requirements/pip-check-known.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(SVC_VENV)
	$(SVC_PY) -m pip install --quiet --no-deps -r requirements/svc.lock
	$(PYTHON) scripts/pip_check.py $(SVC_VENV)
	touch $@

setup: $(RASA_VENV)/.installed $(SVC_VENV)/.installed ## Create both Python environments from the lock files

# --- content and model ----------------------------------------------------

build/rasa/.compiled: $(RASA_VENV)/.installed $(MODEL_INPUTS)
	$(RASA_PY) -m bot.compile
	touch $@

compile: build/rasa/.compiled ## Compile data/ (one file per intent) into Rasa training files

validate: build/rasa/.compiled ## rasa data validate + the project's content checks
	$(RASA_BIN) data validate --fail-on-warnings --domain build/rasa/domain.yml --data $(RASA_DATA) --config config.yml
	$(RASA_PY) -m bot.validate

$(MODEL): build/rasa/.compiled
	$(RASA_PY) -m bot.validate
	$(RASA_BIN) train --domain build/rasa/domain.yml --data $(RASA_DATA) --config config.yml \
		--out models --fixed-model-name nimbus
	touch $@

train: $(MODEL) ## Train the model (only when content, config or components changed)

# --- run ------------------------------------------------------------------

run: setup $(MODEL) ## Start translator, action server and Rasa (ports 5070, 5055, 5005); Ctrl-C stops all
	$(SVC_PY) scripts/supervise.py Procfile

translation-model: $(SVC_VENV)/.installed ## Install an offline translation model: make translation-model FILE=x.argosmodel
	@test -n "$(FILE)" || { echo "usage: make translation-model FILE=path/to/model.argosmodel"; exit 2; }
	$(SVC_PY) -m translator.install $(FILE)

# --- tests ----------------------------------------------------------------

test: setup lint validate $(MODEL) test-python test-stories ## Install, train if needed, run every test

test-python: setup $(MODEL) ## pytest in both environments (unit + integration with the real model)
	$(SVC_PY) -m pytest tests/translator tests/handoff
	$(RASA_PY) -m pytest tests/bot

test-stories: setup $(MODEL) ## rasa test: conversation stories in en, bn and ml
	$(RASA_BIN) test core --model $(MODEL) --stories tests/stories --out results/stories \
		--fail-on-prediction-errors --no-plot --e2e

lint: setup ## ruff check and ruff format --check
	$(SVC_VENV)/bin/ruff check $(PY_SOURCES)
	$(SVC_VENV)/bin/ruff format --check $(PY_SOURCES)

# --- benchmarks -----------------------------------------------------------

bench: bench-fast bench-banking77 ## All benchmarks (about 70 min; figures in README)

bench-fast: setup $(MODEL) ## Held-out accuracy per language, language ID, latency and memory (minutes)
	$(RASA_PY) -m bench.nlu_heldout
	$(RASA_PY) -m bench.language_id
	$(RASA_PY) -m bench.parse_latency

bench-banking77: setup ## Banking77: train the NLU pipeline on train.csv, score test.csv (about an hour)
	$(RASA_PY) -m bench.banking77

clean: ## Remove build output, models and results (keeps the environments)
	rm -rf build models results .pytest_cache
