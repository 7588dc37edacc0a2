#!/usr/bin/env bash
# A Docker Engine for the container tests, and their images built locally (no registry is reachable).
#   scripts/test-docker.sh start   -> uses the engine that answers, or starts dockerd; builds the test images
#   scripts/test-docker.sh stop    -> stops dockerd only if `start` started it
# dockerd and busybox-static come from Debian (`make test-deps` installs docker.io and busybox-static).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
base="${NUBES_TEST_SERVICES_DIR:-${TMPDIR:-/tmp}/nubes-test-$(printf %s "$root" | md5sum | cut -c1-8)}/docker"
image="nubes-test/busybox:1"

answers() { docker info >/dev/null 2>&1; }

build_image() {
  docker image inspect "$image" >/dev/null 2>&1 && return 0
  command -v busybox >/dev/null || { echo "error: busybox not found; run make test-deps (busybox-static)" >&2; exit 1; }
  rootfs="$(mktemp -d)"
  mkdir -p "$rootfs"/{bin,tmp,etc,home/container,mnt/server}
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\ncontainer:x:1000:1000::/home/container:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\ncontainer:x:1000:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'WORKDIR /home/container' - "$image" >/dev/null
  rm -rf "$rootfs"
}

case "${1:-}" in
start)
  if ! answers; then
    command -v dockerd >/dev/null || { echo "error: no Docker Engine answers and dockerd is missing; run make test-deps (docker.io)" >&2; exit 1; }
    mkdir -p "$base"
    dockerd --pidfile "$base/dockerd.pid" >"$base/dockerd.log" 2>&1 &
    touch "$base/started-by-tests"
    for _ in $(seq 1 120); do answers && break; sleep 0.5; done
    answers || { echo "error: dockerd did not answer within 60 s:" >&2; tail -n 20 "$base/dockerd.log" >&2; exit 1; }
  fi
  build_image
  echo "$image"
  ;;
stop)
  if [ -f "$base/started-by-tests" ] && [ -f "$base/dockerd.pid" ]; then
    pid="$(cat "$base/dockerd.pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -rf "$base"
  rmdir "$(dirname "$base")" 2>/dev/null || true
  ;;
*)
  echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
