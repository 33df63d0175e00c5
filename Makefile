# Two commands on a fresh clone: `make audit` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ENV    ?= local
PYTEST_ARGS ?=
TESTS  ?= tests_selftest
BENCH_SIZES ?= 100,1000,5000

.PHONY: audit preflight postdeploy deploy test lint demo demo-rollback bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,emulator]'
	touch $(STAMP)

audit: $(STAMP)  ## the go/no-go audit on ENV (default: the embedded local emulator)
	$(BIN)/readiness gate audit --env $(ENV) $(PYTEST_ARGS)

preflight: $(STAMP)
	$(BIN)/readiness gate preflight --env $(ENV) $(PYTEST_ARGS)

postdeploy: $(STAMP)
	$(BIN)/readiness gate postdeploy --env $(ENV) $(PYTEST_ARGS)

deploy: $(STAMP)
	$(BIN)/readiness gate deploy --env $(ENV) $(PYTEST_ARGS)

test: $(STAMP)  ## the selftests of the suite itself
	$(BIN)/python -m pytest -c tests_selftest/pytest.ini -n auto $(PYTEST_ARGS) $(TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check readiness reports
	$(BIN)/mypy

bench: $(STAMP)  ## benchmarks (bench/RESULTS.md): demo end to end, scale, latency, Prowler
	$(BIN)/python -m bench.demo --runs 3
	$(BIN)/python -m bench.scale --sizes $(BENCH_SIZES)
	$(BIN)/python -m bench.scale --sizes 1000 --delay-ms 50
	$(BIN)/python -m bench.peer --seed demo-broken

demo: $(STAMP)  ## go-live end to end on the embedded emulator (GO path, exit 0)
	$(BIN)/readiness go-live --env local --no-input

demo-rollback: $(STAMP)  ## a phase-4 validation fails, the rollback runs, an incident is written
	@$(BIN)/readiness go-live --env local --no-input --simulate-failure=rate-limiter-off; \
	code=$$?; if [ $$code -eq 2 ]; then \
	  echo "demo-rollback: exit 2 as expected (rolled back); incident: $$(ls -t out/incidents/*.md | head -1)"; \
	else echo "demo-rollback: expected exit 2 (rolled back), got $$code"; exit 1; fi

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
