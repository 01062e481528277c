# Setup, run, test: everything the project needs is installed from its own files
# (pyproject.toml + uv.lock) into .venv; uv itself is bootstrapped into .uv.

UV_VERSION := 0.13.8
PYTHON ?= python3
UV := .uv/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: setup run test check bench clean

setup: .venv/.synced

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	touch $@

## Start the broker on its embedded default (SQLite in $$DOME_HOME or ~/.dome).
run: setup
	.venv/bin/dome serve $(ARGS)

## Every test: unit, integration (real sockets), PostgreSQL; plus the static checks.
test: setup
	scripts/check
	scripts/test

check: setup
	scripts/check

## Broker overhead against calling the upstream directly (needs wrk).
bench: setup
	.venv/bin/python bench/run.py $(ARGS)

clean:
	rm -rf .venv .uv .pytest_cache .mypy_cache .ruff_cache
