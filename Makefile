# Nubes: `make run` serves the platform, `make test` runs everything. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv

WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json
TEST_PACKAGES := /usr/bin/chromium=chromium '/usr/lib/postgresql/*/bin/pg_ctl=postgresql' /usr/bin/redis-server=redis-server \
	/usr/sbin/nginx=nginx /usr/sbin/dockerd=docker.io /usr/share/doc/busybox-static/copyright=busybox-static \
	/usr/bin/tesseract=tesseract-ocr '/usr/share/tesseract-ocr/*/tessdata/eng.traineddata=tesseract-ocr-eng' /usr/bin/pdftotext=poppler-utils \
	/usr/bin/litmus=litmus /usr/bin/rclone=rclone /usr/sbin/mount.davfs=davfs2 /usr/bin/cadaver=cadaver \
	/usr/bin/nextcloudcmd=nextcloud-desktop-cmd /usr/bin/restic=restic

.PHONY: help run install test test-deps bench lint api-client web clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: install ## Install what is missing, then serve Nubes at http://127.0.0.1:8000 (SQLite, local disk)
	@PYTHONDONTWRITEBYTECODE= .venv/bin/python -m compileall -q src > /dev/null
	.venv/bin/nubes serve

install: .venv/.synced web/dist/index.html ## Python env and UI build, idempotently

test: install test-deps ## Install test needs (PostgreSQL, Chromium, Docker), then lint, types, contract and the whole suite on SQLite and PostgreSQL
	scripts/test.sh

test-deps: ## Debian packages the tests need, when missing
	@scripts/system-packages.sh $(TEST_PACKAGES)

bench: install ## Benchmarks: one JSON line each, with a ratio to a baseline measured in the same run
	@scripts/system-packages.sh /usr/bin/wrk=wrk /usr/sbin/nginx=nginx /usr/bin/curl=curl '/usr/lib/postgresql/*/bin/pg_ctl=postgresql' \
		/usr/bin/redis-server=redis-server /usr/bin/pdftotext=poppler-utils /usr/bin/rclone=rclone /usr/sbin/apache2=apache2
	.venv/bin/python bench/run.py

lint: .venv/.synced web/node_modules/.synced ## ruff, mypy, tsc and eslint only
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy
	npm --prefix web run --silent typecheck && npm --prefix web run --silent lint

api-client: .venv/.synced web/node_modules/.synced ## Regenerate web/src/api/schema.d.ts from the server's OpenAPI schema
	mkdir -p build && NUBES_DATA_DIR=build/openapi-data .venv/bin/nubes openapi > build/openapi.json
	npm --prefix web run --silent gen:api

web: web/dist/index.html ## Build the web UI

clean: ## Remove the environments and builds (keeps ./data)
	rm -rf .venv $(TOOLS) web/node_modules web/dist build

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode compiled at install: where PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile every
# module it imports again (a server start took 4 s more CPU; the suite starts hundreds of processes).
.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

web/node_modules/.synced: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: Node.js 20.19+ and npm are needed to build the UI; install them and retry" >&2; exit 1; }
	npm --prefix web ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.synced $(WEB_SOURCES)
	npm --prefix web run --silent build
	touch $@
