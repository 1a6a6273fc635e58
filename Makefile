# The one entry point for every task. `make up` runs the system on embedded defaults; `make test` runs all tests.
SHELL := /bin/bash
UV ?= uv
export PATH := $(HOME)/.local/bin:$(PATH)
# The machine's own Python 3.11: uv must never download an interpreter.
export UV_PYTHON_DOWNLOADS := never

.PHONY: install up down status test test-unit lint bench-diamant bench-rpu bench-rpu-export clean

install:  ## Python toolchain and every workspace package (uv installs from PyPI)
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet --user uv
	@# GnuPG encrypts the synthetic DIAMANT extracts exactly as DIAMANT's own GnuPG does (seed, tests, benchmarks).
	@command -v gpg >/dev/null || { apt-get update -qq && apt-get install -y -qq gnupg; }
	$(UV) sync --all-packages --frozen || $(UV) sync --all-packages

up: install  ## Kafka, PostgreSQL, the SFTP inbox, migrations, sample data, the five services
	$(UV) run relais up
	$(UV) run relais seed
	@echo
	@echo "Relais is up. Look at:  uv run relais status | uv run relais lag | uv run relais trace"
	@echo "Service logs: var/log/<service>.log   Stop everything: make down"

down:
	$(UV) run relais down

status:
	$(UV) run relais status

test: install  ## every test, unit and integration (starts the infrastructure it needs)
	$(UV) run pytest

test-unit: install
	$(UV) run pytest -m "not integration"

lint: install
	$(UV) run ruff check .
	$(UV) run mypy libs/relais-contracts/src libs/relais-platform/src

bench-diamant: install
	$(UV) run --group bench python bench/bench_diamant.py

bench-rpu: install
	$(UV) run --group bench python bench/bench_rpu.py

bench-rpu-export: install
	$(UV) run --group bench python bench/bench_rpu_export.py

clean:  ## stop everything and forget local state (Kafka data, database cluster, blobs, traces)
	-$(UV) run relais down
	rm -rf var
