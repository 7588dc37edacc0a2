#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster on a free loopback port for the test suite.
#   scripts/test-postgres.sh start   -> prints the postgresql+asyncpg:// URL on stdout
#   scripts/test-postgres.sh stop
# Uses Debian's PostgreSQL binaries (installed by `make test-deps`). PostgreSQL refuses to run as
# root, so as root the cluster belongs to the `postgres` system user.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
# Under /tmp, not the checkout: the `postgres` user must be able to reach it whatever the clone's permissions.
base="${NUBES_TEST_SERVICES_DIR:-${TMPDIR:-/tmp}/nubes-test-$(printf %s "$root" | md5sum | cut -c1-8)}/postgres"
cd /
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bindir/pg_ctl" ] || { echo "error: PostgreSQL server binaries not found under /usr/lib/postgresql; run make test-deps" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  if [ -f "$base/url" ] && as_owner "$bindir/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
    cat "$base/url"; exit 0
  fi
  rm -rf "$base"; mkdir -p "$base"
  [ "$(id -u)" = 0 ] && chown postgres: "$base"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  as_owner "$bindir/initdb" -D "$base/data" -U nubes --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; exit 1; }
  # Durability off: a test cluster is thrown away, and this makes it several times faster.
  as_owner "$bindir/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $port -k $base -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null \
    || { cat "$base/server.log" >&2; exit 1; }
  echo "postgresql+asyncpg://nubes@127.0.0.1:$port/postgres" | tee "$base/url"
  ;;
stop)
  if [ -d "$base/data" ]; then as_owner "$bindir/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$base"
  rmdir "$(dirname "$base")" 2>/dev/null || true
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
