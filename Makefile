# Two commands on a fresh machine: `make run` (the platform with a demo campaign) and `make test` (every test).
# Both go through `make install`, which only builds .venv and is quick when nothing changed.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/stimmen
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
CHROMIUM ?= /usr/bin/chromium

.PHONY: install run test lint audit browser messages bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	@touch $@

# The demo: SQLite, tasks in-process, nothing else needed. Prints the logins and the campaign link.
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser of its own).
browser: $(CHROMIUM)
$(CHROMIUM):
	@if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive survey analysis config worker

# Known vulnerabilities in the pinned dependencies (needs PyPI; docs/security.md has the latest result).
audit: install
	$(BIN)/pip-audit --strict --requirement requirements.lock --progress-spinner off

# The whole suite on the real services: PostgreSQL, Redis, a Celery worker and Chromium.
test: install browser lint
	STIMMEN_REQUIRE_SERVICES=1 DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest

messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages --all --ignore=.venv --no-obsolete
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

# Benchmarks as ratios against baselines measured in the same run (bench/README.md). They use PostgreSQL
# (database stimmen_bench, re-created) and Redis db 12 on 127.0.0.1. `bench` is quick (under 3 minutes);
# `bench-full` loads longer and synthesizes 10k, 100k and 1M responses (tens of minutes).
bench: install
	$(BIN)/python -m bench.run

.PHONY: bench-full
bench-full: install
	$(BIN)/python -m bench.run --full

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
