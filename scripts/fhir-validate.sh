#!/usr/bin/env bash
# Validates FHIR R4 resources with an implementation that is not Pathway's:
# fhir.resources 6.2.2 (PyPI; pydantic models generated from the FHIR R4
# 4.0.1 definitions; its later releases default to R4B 4.3.0 or R5), which
# checks every element's name, cardinality and datatype, required elements
# and primitive formats, in contained resources and Bundle entries too. It
# does not check value-set bindings, invariants or profiles.
#
#   scripts/fhir-validate.sh FILE...    validate each file (`-` is stdin);
#                                       a file may hold one resource or a
#                                       JSON array of them; exit 1 on any error
#   scripts/fhir-validate.sh --install  install if needed, print this script's
#                                       path (for FHIR_VALIDATOR, as `make test` does)
#
# Installs the pinned version into the venv .tools/fhir-resources (from PyPI,
# once) when it is not there. The e2e test tests/e2e/fhir_task.rs runs it over
# every resource Pathway emits and over examples/*.fhir.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

FHIR_RESOURCES_VERSION=6.2.2
PYDANTIC_VERSION=1.10.27
venv="$root/.tools/fhir-resources"

# The freeze is read whole before it is searched: `pip freeze | grep -q`
# under pipefail fails whenever grep stops reading first (pip gets SIGPIPE).
pinned() {
  [ -x "$venv/bin/python" ] &&
    [ "$("$venv/bin/python" -c 'import fhir.resources as f; print(f.__fhir_version__)' 2>/dev/null)" = "4.0.1" ] &&
    grep -qx "fhir.resources==$FHIR_RESOURCES_VERSION" <<<"$("$venv/bin/pip" freeze --disable-pip-version-check 2>/dev/null)"
}

if ! pinned; then
  echo "Installing fhir.resources $FHIR_RESOURCES_VERSION (FHIR R4 4.0.1) into .tools/fhir-resources (from PyPI, once)..." >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "fhir.resources==$FHIR_RESOURCES_VERSION" "pydantic==$PYDANTIC_VERSION" >&2
  if ! pinned; then
    echo "error: could not install fhir.resources $FHIR_RESOURCES_VERSION into .tools/fhir-resources" >&2
    exit 1
  fi
fi

if [ "${1:-}" = "--install" ]; then
  echo "$root/scripts/fhir-validate.sh"
  exit 0
fi
if [ "$#" -eq 0 ]; then
  echo "usage: $0 FILE... (- for stdin) | --install" >&2
  exit 2
fi

program='
import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element
from pydantic import ValidationError

if fhir.resources.__fhir_version__ != "4.0.1":
    sys.exit("fhir.resources is not FHIR R4 (4.0.1): " + fhir.resources.__fhir_version__)

failed = 0
for name in sys.argv[1:]:
    label = "<stdin>" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
        data = json.loads(text)
    except (OSError, ValueError) as error:
        print(f"FAIL {label}: not readable JSON: {error}")
        failed += 1
        continue
    resources = data if isinstance(data, list) else [data]
    for index, resource in enumerate(resources):
        where = label if len(resources) == 1 else f"{label}[{index}]"
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(kind, str):
            print(f"FAIL {where}: no resourceType")
            failed += 1
            continue
        try:
            construct_fhir_element(kind, resource)
        except (ValidationError, LookupError, TypeError, ValueError) as error:
            print(f"FAIL {where} ({kind}): {error}")
            failed += 1
            continue
        print(f"ok {where} ({kind})")
sys.exit(1 if failed else 0)
'
exec "$venv/bin/python" -c "$program" "$@"
