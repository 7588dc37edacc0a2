#!/usr/bin/env bash
# The whole suite, as `make test` runs it: lint and types, contract checks, then pytest on SQLite
# and PostgreSQL (a throwaway cluster unless NUBES_TEST_POSTGRES_URL is given), browser tests included (on each engine
# and through the reference deployment, tests/e2e/conftest.py).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "ruff (lint and format)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

step "mypy --strict"
.venv/bin/mypy

step "web: tsc and eslint"
npm --prefix web run --silent typecheck
npm --prefix web run --silent lint

step "generated TypeScript client matches the OpenAPI schema"
scripts/check-api-client.sh

# Nubes' own bytecode, up to date (site-packages is compiled at install): the suite starts hundreds of Python
# processes, and with PYTHONDONTWRITEBYTECODE set each would compile every module it imports again.
PYTHONDONTWRITEBYTECODE= .venv/bin/python -m compileall -q -j 0 src tests > /dev/null

cleanup=()
trap 'for command in "${cleanup[@]}"; do $command || true; done' EXIT

if [ -z "${NUBES_TEST_POSTGRES_URL:-}" ]; then
  step "starting a throwaway PostgreSQL"
  NUBES_TEST_POSTGRES_URL="$(scripts/test-postgres.sh start)"
  export NUBES_TEST_POSTGRES_URL
  cleanup+=("scripts/test-postgres.sh stop")
  echo "PostgreSQL at ${NUBES_TEST_POSTGRES_URL}"
fi

step "Docker Engine for the container tests (dockerd started when none answers; images built locally)"
cleanup+=("scripts/test-docker.sh stop")
echo "test image: $(scripts/test-docker.sh start)"

# In parallel: NUBES_TEST_WORKERS processes (default one per CPU), each with its own databases, data dirs and
# ports; the tests of one module on one engine stay on one worker (tests/conftest.py). The 20 slowest are listed.
workers="${NUBES_TEST_WORKERS:-auto}"
step "pytest on ${NUBES_TEST_ENGINES:-sqlite,postgresql}, ${workers} workers (alembic check and browser tests included)"
.venv/bin/pytest -n "$workers" --dist loadscope --no-loadscope-reorder --durations=20 "$@"
