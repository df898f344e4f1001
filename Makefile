# prices-predictor: one entry point for humans and CI.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PP_HOME ?= $(CURDIR)/.pp
export MLFLOW_DISABLE_TELEMETRY := true
export ZENML_ANALYTICS_OPT_IN := false
export DO_NOT_TRACK := 1

.PHONY: install run train serve test test-slow test-fast lint bench stack stack-down clean docs audit image image-test

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-spark.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "uv==0.13.8"
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements-spark.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

# exit 3 = trained but not promoted (e.g. no better than the champion): still serve the champion
run: install
	$(BIN)/prices-predictor train || [ $$? -eq 3 ]
	$(BIN)/prices-predictor serve --host 127.0.0.1 --port 8000

train: install
	$(BIN)/prices-predictor train

serve: install
	$(BIN)/prices-predictor serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/python -m pytest -m "not long" --durations=20

# the long drills (5-minute soak); .ci/run runs them after `make test`
test-slow: install
	$(BIN)/python -m pytest -m long --no-cov

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not e2e" --no-cov -q

lint: install
	$(BIN)/ruff check src tests ops bench tools
	$(BIN)/ruff format --check src tests ops bench tools
	$(BIN)/mypy src ops bench
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m bench

# supply chain: PyPI's advisory data for every pinned dependency. Not a CI gate (a new
# advisory must not turn an unrelated change red). --strict: a package that could not be
# checked is a failure, not a pass. Accepted findings: audit-ignore.txt, each with its reason.
AUDIT_IGNORE := $(shell sed -n 's/^\([A-Za-z0-9][A-Za-z0-9-]*\).*/--ignore-vuln \1/p' audit-ignore.txt)
audit: install
	$(BIN)/pip-audit -r requirements.lock --no-deps --disable-pip --strict \
		--progress-spinner off $(AUDIT_IGNORE)

# requirements.lock: everything (dev pulls training, serving, monitoring, catboost) + feast;
# requirements-serving.lock: the runtime image's venv, pinned as in requirements.lock
lock:
	uv pip compile pyproject.toml --extra dev --extra feast --python-version 3.11 -o requirements.lock
	uv pip compile pyproject.toml --extra serving --python-version 3.11 -c requirements.lock \
		-o requirements-serving.lock
	{ grep '^#' requirements-spark.lock; uv pip compile pyproject.toml --extra dev --extra feast --extra spark \
		--python-version 3.11 -c requirements.lock --no-header --no-annotate \
		| grep -E '^(pyspark|py4j)=='; } > requirements-spark.tmp
	mv requirements-spark.tmp requirements-spark.lock

stack: install
	$(BIN)/python -m ops.stack up

stack-down: install
	$(BIN)/python -m ops.stack down

clean:
	rm -rf $(VENV) .pp .pytest_cache .mypy_cache .ruff_cache

docs: install
	$(BIN)/python -c "from prices_predictor.core.settings import configuration_markdown as m; open('docs/configuration.md', 'w').write(m())"
	$(BIN)/prices-predictor spec schema --out docs/spec.schema.json

# the runtime image (Docker, BuildKit; a debootstrap base where no registry is reachable):
# `make image` builds prices-predictor:latest; `make image-test` builds, serves and checks it
image:
	IMAGE=$${IMAGE:-prices-predictor:latest} bash tools/image_test.sh --build-only

image-test: $(STAMP)
	bash tools/image_test.sh
