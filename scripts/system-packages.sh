#!/usr/bin/env bash
# Install the Debian packages a make target needs, only those missing, idempotently.
#   scripts/system-packages.sh PATH=PACKAGE ...   (PATH is a file whose presence means "installed")
set -euo pipefail

missing=()
for pair in "$@"; do
  path="${pair%%=*}"; package="${pair#*=}"
  # A glob such as /usr/lib/postgresql/*/bin/pg_ctl counts as present when anything matches it.
  compgen -G "$path" >/dev/null || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "error: these Debian packages are missing: ${missing[*]}; install them (sudo apt-get install ${missing[*]}) and retry" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
