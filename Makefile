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
export HANDOFF_PORT ?= 8080
export RASA_HOST ?= 127.0.0.1
export ACTIONS_HOST ?= 127.0.0.1
export RASA_URL ?= http://127.0.0.1:$(RASA_PORT)
export TRANSLATOR_URL ?= http://127.0.0.1:$(TRANSLATOR_PORT)
export MODEL SVC_PY RASA_BIN RASA_PY

CONTENT := $(wildcard data/*.yml data/faq/*.yml data/intents/*.yml data/rasa/*.yml)
MODEL_INPUTS := $(CONTENT) config.yml bot/domain.yml $(wildcard bot/*.py bot/components/*.py)
RASA_DATA := build/rasa/data data/rasa
PY_SOURCES := bot actions translator handoff synthetic tests scripts bench

.DEFAULT_GOAL := help
.PHONY: help setup lock-hashes run agent test validate train compile test-python test-stories test-widget lint bench bench-fast bench-nlu-select bench-content bench-banking77 bench-chaos translation-model clean migrate report seed

help: ## List every target
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

# --- environments ---------------------------------------------------------

$(RASA_VENV)/.installed: requirements/rasa.lock requirements/pip-check-known.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(RASA_VENV)
	# Rasa 3.6 declares Requires-Python <3.11 but runs on 3.11: install the
	# pinned, known-good set without the resolver (see docs/dependencies.md).
	$(RASA_PY) -m pip install --quiet --no-deps --require-hashes --ignore-requires-python -r requirements/rasa.lock
	$(PYTHON) scripts/pip_check.py $(RASA_VENV)
	touch $@

$(SVC_VENV)/.installed: requirements/svc.lock requirements/pip-check-known.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(SVC_VENV)
	$(SVC_PY) -m pip install --quiet --no-deps --require-hashes -r requirements/svc.lock
	$(PYTHON) scripts/pip_check.py $(SVC_VENV)
	touch $@

setup: $(RASA_VENV)/.installed $(SVC_VENV)/.installed ## Create both Python environments from the lock files

TOOLS_VENV := .venvs/tools
LOCKS := requirements/rasa.lock requirements/svc.lock requirements/tools.lock

lock-hashes: ## After changing a pin in requirements/*.lock: write every file's sha256 hashes from PyPI (hashin)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --no-deps --require-hashes -r requirements/tools.lock
	for lock in $(LOCKS); do \
		$(TOOLS_VENV)/bin/hashin -r $$lock $$(grep -E '^[A-Za-z0-9_.-]+==[^+ ]+( |$$)' $$lock | cut -d' ' -f1) || exit 1; \
	done

# --- content and model ----------------------------------------------------

build/rasa/.compiled: $(RASA_VENV)/.installed $(MODEL_INPUTS)
	$(RASA_PY) -m bot.compile
	touch $@

compile: build/rasa/.compiled ## Compile data/ (one file per intent) into Rasa training files

validate: build/rasa/.compiled ## rasa data validate + the project's content checks
	$(RASA_BIN) data validate --fail-on-warnings --domain build/rasa/domain.yml --data $(RASA_DATA) --config config.yml
	$(RASA_PY) -m bot.validate

# rasa train --skip-validation: Rasa's own validator reads all training data a
# second time (about 40 s of 6,000 examples); `make validate` (part of `make
# test`) runs it, stricter (--fail-on-warnings), and bot.validate runs here.
$(MODEL): build/rasa/.compiled
	$(RASA_PY) -m bot.validate
	$(RASA_BIN) train --skip-validation --domain build/rasa/domain.yml --data $(RASA_DATA) --config config.yml \
		--out models --fixed-model-name nimbus
	touch $@

train: $(MODEL) ## Train the model (only when content, config or components changed)

# --- run ------------------------------------------------------------------

run: setup $(MODEL) widget ## Start everything: handoff service + console + widget demo (8080), Rasa (5005), actions, translator, log writer; Ctrl-C stops all
	$(SVC_PY) scripts/supervise.py Procfile

agent: $(SVC_VENV)/.installed ## Create an agent for the console: make agent NAME=asha LANGS=bn,en [ROLE=admin] (asks for a password)
	@test -n "$(NAME)" || { echo "usage: make agent NAME=username LANGS=en,bn [ROLE=agent|admin] [CAPACITY=3]"; exit 2; }
	$(SVC_PY) -m handoff.users add $(NAME) --languages $(or $(LANGS),en) --role $(or $(ROLE),agent) --capacity $(or $(CAPACITY),3)

translation-model: $(SVC_VENV)/.installed ## Install an offline translation model: make translation-model FILE=x.argosmodel
	@test -n "$(FILE)" || { echo "usage: make translation-model FILE=path/to/model.argosmodel"; exit 2; }
	$(SVC_PY) -m translator.install $(FILE)

# --- the conversation log and analytics (docs/metrics.md) ------------------

migrate: $(SVC_VENV)/.installed ## Bring the SQL conversation log (DATABASE_URL, default var/handoff/log.db) to the latest schema
	$(SVC_PY) -m handoff.analytics.db migrate

report: $(SVC_VENV)/.installed ## FCR and the other measures: make report [FROM=2026-10-01] [TO=2026-10-31] [WINDOW=7]; CSVs in results/reports/
	$(SVC_PY) -m handoff.analytics.report $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(WINDOW),--window $(WINDOW))

seed: $(SVC_VENV)/.installed ## Fill the SQL log with a synthetic month (3 languages; never used by the live service): make seed [DAYS=30] [PER_DAY=40]
	$(SVC_PY) -m synthetic.seed $(if $(DAYS),--days $(DAYS)) $(if $(PER_DAY),--per-day $(PER_DAY))

# --- tests ----------------------------------------------------------------

test: setup lint validate $(MODEL) widget browser test-widget test-python test-stories ## Install, train if needed, run every test

test-widget: widget ## Unit tests of the front-end logic (node --test)
	cd widget && npm test

test-python: setup $(MODEL) widget browser ## pytest in both environments (unit + integration with the real model, Chromium)
	$(SVC_PY) -m pytest tests/translator tests/handoff tests/analytics tests/widget
	$(RASA_PY) -m pytest tests/bot

test-stories: setup $(MODEL) ## rasa test: conversation stories in en, bn and ml
	$(RASA_BIN) test core --model $(MODEL) --stories tests/stories --out results/stories \
		--fail-on-prediction-errors --no-plot --e2e

lint: setup ## ruff check and ruff format --check
	$(SVC_VENV)/bin/ruff check $(PY_SOURCES)
	$(SVC_VENV)/bin/ruff format --check $(PY_SOURCES)

# --- benchmarks -----------------------------------------------------------

bench: bench-fast bench-nlu-select bench-banking77 bench-chaos ## All benchmarks (about 50 min; figures in README)

bench-fast: setup $(MODEL) ## Held-out accuracy (native, romanized, other languages), threshold curve, language ID, latency, memory (minutes)
	$(RASA_PY) -m bench.nlu_calibrate
	$(RASA_PY) -m bench.nlu_heldout
	$(RASA_PY) -m bench.language_id
	$(RASA_PY) -m bench.parse_latency
	$(SVC_PY) -m bench.handoff_load

bench-nlu-select: setup ## The classifier comparison by cross-validation on the training examples (about 10 min)
	$(RASA_PY) -m bench.nlu_compare

bench-content: setup ## Do new training examples help? Cross-validation without and with those added since SINCE (default main; about 4 min)
	$(RASA_PY) -m bench.content_gain --since $(or $(SINCE),main)

bench-chaos: setup $(MODEL) ## 50 visitors on two service processes while one process and Redis are SIGKILLed: nothing lost or doubled (about 5 min)
	$(SVC_PY) -m bench.chaos

bench-banking77: setup ## Banking77 (BANKING77_DIR, default ../shared/datasets/banking77): choose settings by CV on train.csv, train from scratch, score test.csv (about 20 min)
	$(RASA_PY) -m bench.banking77

clean: ## Remove build output, models and results (keeps the environments)
	rm -rf build models results .pytest_cache

# --- agent console (widget/) and the browser for its test -----------------

.PHONY: widget browser
WIDGET_SOURCES := widget/package.json widget/package-lock.json widget/vite.config.js \
	$(wildcard widget/shared/*.js widget/console/*.html widget/console/src/*.js widget/console/src/*.css) \
	$(wildcard widget/visitor/*.html widget/visitor/src/*.js widget/visitor/src/*.css widget/loader/*.js widget/demo/*.html)

widget/node_modules/.package-lock.json: widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund
	touch $@

WIDGET_BUILT := build/widget/console/index.html build/widget/widget/index.html build/widget/widget/loader.js \
	build/widget/demo/index.html

$(WIDGET_BUILT) &: widget/node_modules/.package-lock.json $(WIDGET_SOURCES)
	cd widget && npm run build
	touch $(WIDGET_BUILT)

widget: $(WIDGET_BUILT) ## Build the agent console (/console/), the visitor widget + loader (/widget/) and its demo page (/demo/)

browser: ## Install Debian's Chromium and Noto fonts for the browser test (apt-get; needs root)
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/noto ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-noto-core; \
	else echo "chromium and fonts-noto-core are installed"; fi
