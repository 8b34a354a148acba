#!/usr/bin/env bash
# Prints the path of axe.min.js (axe-core, the accessibility checker the
# browser tests run inside each page), after making sure it is installed.
# Order: $AXE_CORE, then .tools/axe-core/ in this checkout; when neither has
# it, installs the pinned version from npm into .tools/axe-core/.
set -euo pipefail

version=4.10.3
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/.tools/axe-core"
installed="$prefix/node_modules/axe-core/axe.min.js"

if [ -n "${AXE_CORE:-}" ] && [ -f "$AXE_CORE" ]; then
  echo "$AXE_CORE"
  exit 0
fi
if [ -f "$installed" ]; then
  echo "$installed"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is needed to install axe-core for the accessibility checks." >&2
  echo "       Install Node.js and npm (apt-get install -y npm), or set AXE_CORE to an axe.min.js." >&2
  exit 1
fi
mkdir -p "$prefix"
npm install --silent --no-audit --no-fund --prefix "$prefix" "axe-core@$version" >&2
if [ ! -f "$installed" ]; then
  echo "error: npm installed axe-core@$version but $installed is not there." >&2
  exit 1
fi
echo "$installed"
