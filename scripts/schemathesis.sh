#!/usr/bin/env bash
# Prints the path of the schemathesis CLI (pinned version) that the API fuzz
# test (tests/e2e/api_fuzz.rs) runs against every service's /openapi.json,
# installing it under .tools/ when it is not there. Order: $SCHEMATHESIS,
# .tools/schemathesis/bin/schemathesis, then `pip install schemathesis` into
# the venv .tools/schemathesis. Only the pinned version is accepted: its
# command-line flags changed between major versions.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
venv="$PWD/.tools/schemathesis"

pinned() {
  [ -n "$1" ] && [ -x "$1" ] &&
    [ "$("$1" --version 2>/dev/null)" = "schemathesis, version $SCHEMATHESIS_VERSION" ]
}

for candidate in "${SCHEMATHESIS:-}" "$venv/bin/schemathesis"; do
  if pinned "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done

echo "Installing schemathesis $SCHEMATHESIS_VERSION into .tools/schemathesis (from PyPI, a minute once)..." >&2
python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
if pinned "$venv/bin/schemathesis"; then
  echo "$venv/bin/schemathesis"
else
  echo "error: could not install schemathesis $SCHEMATHESIS_VERSION into .tools/schemathesis; set SCHEMATHESIS to one" >&2
  exit 1
fi
