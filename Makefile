# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: run test test-sqlite test-postgres lint setup worker bench

setup:
	@scripts/bootstrap

## Install, migrate, load the demo data and serve on http://127.0.0.1:8000 (SQLite by default).
run: setup
	@scripts/run

## Lint, type check, migration check, then the whole suite on SQLite and on PostgreSQL.
test: setup
	@scripts/test

test-sqlite: setup
	@scripts/test --sqlite-only

lint: setup
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

worker: setup
	@$(PY) manage.py run_worker

## Load test on this machine (not part of `make test`): 10k and 1M appointments on PostgreSQL
## and SQLite, gunicorn on 127.0.0.1 driven by wrk; a table in bench/results/. Under 15 minutes.
bench: setup
	@$(PY) bench/run.py $(BENCH_ARGS)
