#!/usr/bin/env bash
# Fail when web/src/api/schema.d.ts is not what openapi-typescript makes of the server's OpenAPI schema.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p build
NUBES_DATA_DIR="$root/build/openapi-data" .venv/bin/nubes openapi > build/openapi.json
web/node_modules/.bin/openapi-typescript build/openapi.json -o build/schema.d.ts >/dev/null 2>&1
if ! diff -u web/src/api/schema.d.ts build/schema.d.ts; then
  echo "error: web/src/api/schema.d.ts is stale; run \`make api-client\` and commit the result" >&2
  exit 1
fi
echo "web/src/api/schema.d.ts matches the OpenAPI schema"
