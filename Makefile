# Two commands on a fresh machine (Python 3.11+, git, make):
#   make repro   create the environment from uv.lock if needed, then `dvc repro`
#                (then `source .venv/bin/activate` puts dvc on PATH for the dvc commands)
#   make test    same environment, then the whole test suite (what CI runs)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
# pr-report: the revision to compare with; DATA_ORIGIN: how the data got here (CI sets it)
BASE ?= main
DATA_ORIGIN ?=
export DATA_ORIGIN

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export UV_COMPILE_BYTECODE := 1

.PHONY: help env spark-env spark repro pipeline check test params params-check lint format pr-report pr-compare exp-show plots-template bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --inexact: a later `make env` keeps pyspark if `make spark-env` added it.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --inexact --python $(PYTHON)
	touch $@

$(VENV)/.spark: $(VENV)/.synced
	$(UV) sync --frozen --inexact --group spark --python $(PYTHON)
	touch $@

# The class-data archive of Spark's classes (engines/spark/warm.py): each Spark stage's JVM
# maps it instead of loading the jars' classes one by one (~half of a stage's fixed cost).
# Without java it is skipped; `make spark` says what is missing.
$(VENV)/spark-classes.jsa: $(VENV)/.spark
	@if command -v java >/dev/null 2>&1; then \
	  PYTHONPATH=src $(VENV)/bin/python -m tiktok_verified.engines.spark.warm >/dev/null 2>&1 \
	    || echo "make spark-env: no class-data archive (Spark stages start ~2x slower)" >&2; \
	fi

env: $(VENV)/.synced ## create .venv from uv.lock (idempotent)

spark-env: $(VENV)/spark-classes.jsa ## add pyspark (the spark engine) to .venv; Java 17+ comes from the OS

# One command: set up the Spark engine and run the pipeline on it as an experiment; then
# `dvc metrics diff` compares it with the local engine's committed results.
spark: spark-env ## set up, then `dvc exp run -S engine=spark` (Spark local[*]; needs Java 17+)
	@command -v java >/dev/null 2>&1 || { echo "make spark: Spark needs Java 17+ and no java was found; install it (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
	dvc exp run -S engine=spark

repro: env pipeline ## set up, then run the pipeline on the course file at data/raw/, else on the synthetic stand-in

# The same command with or without the course file: the `raw` stage caches data/raw/ when the
# file is there (so queued experiments get it) and leaves it empty otherwise (the stand-in).
pipeline: ## the pipeline alone, in the current environment (used by `repro` and the e2e tests)
	dvc repro

# Two tiers (README, Development). `check`: the tests without a slow marker (no dvc pipeline,
# JVM, Jupyter kernel, browser or virtual environment), for the edit-and-test loop.
CHECK_WORKERS ?= 2
check: env ## the fast tier: unit + quick integration tests, no pipeline/JVM/kernel/browser (<= 90 s)
	$(VENV)/bin/python -m pytest -m "not slow" -n $(CHECK_WORKERS)

# Four workers on two cores: the suite is bound by the cores now (benchmarks/FINDINGS.md, "the
# test suite, bound by two cores"): 5 workers took 395-462 s, 4 351 s, 3 364 s, 2 (slow tier
# alone) 323 s + the fast tier. tests/conftest.py hands out the slow tests first and builds each
# shared pipeline run once per session for all workers; loadgroup keeps the Spark session's
# tests (xdist_group "spark") in one worker, so one JVM serves them (pytest < 9.2, see
# pyproject.toml). --durations: the slowest, in every CI log.
TEST_WORKERS ?= 4
# pyspark, not the class-data archive: the first Spark test builds it (`make spark-env`,
# tests/conftest.py spark_archive) while the other workers run; the suite ended ~30 s sooner
# than when the archive was built before it (benchmarks/FINDINGS.md).
test: $(VENV)/.spark ## run the whole test suite (unit + end-to-end, the Spark engine's included)
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

params: env ## regenerate params.yaml from conf/ (what `dvc exp run` does)
	$(VENV)/bin/python -m tiktok_verified.tools.compose

params-check: env ## fail if params.yaml has drifted from conf/
	$(VENV)/bin/python -m tiktok_verified.tools.compose --check

pr-report: env pr-compare ## reproduce, then compare with BASE (default main): reports/pr_report.md

pr-compare: pipeline ## pr-report in the current environment (used by `pr-report` and the e2e tests)
	python -m tiktok_verified.tools.pr_report --base "$(BASE)" \
	  --out reports/pr_report.md --plots-dir reports/pr_plots

# The columns of `dvc exp show` that matter here (it has hundreds: every coefficient, every
# assumption figure): the data source, the params people sweep, held-out and CV metrics.
EXP_COLUMNS := ^Experiment$$|^State$$|^source$$|^(data\.source|features\.name|resample\.strategy)$$|^model\.(name|C|l1_ratio)$$|^evaluate\.threshold$$|^test\.(accuracy|precision|recall|roc_auc|log_loss)$$|^mean\.roc_auc$$|^std\.roc_auc$$|^predictor\.converged$$
exp-show: ## dvc exp show with the columns that matter (extra options: ARGS='--sort-by model.C')
	dvc exp show --drop '.*' --keep '$(EXP_COLUMNS)' $(ARGS)

plots-template: env ## rebuild .dvc/offline_plots.html (needs npm; the result is committed)
	$(VENV)/bin/python -m tiktok_verified.tools.offline_plots

lint: env ## ruff format check + lint
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/ruff check src tests benchmarks

format: env ## ruff format + autofix
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

bench: spark-env ## time + memory: course file, no-op, model.C change and sweep vs the one-stage DVC floor, 1M/10M rows vs pandas, 10M on Spark (BENCH_QUICK=1: short)
	$(VENV)/bin/python -m benchmarks.run
