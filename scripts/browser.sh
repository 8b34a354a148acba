#!/usr/bin/env bash
# Prints the path of chromedriver, after making sure that it and a matching
# headless Chromium are installed: the clinician UI tests drive a real browser.
# Order: $CHROMEDRIVER, chromedriver on PATH, /usr/bin/chromedriver; Chromium
# likewise from $CHROMIUM, PATH, /usr/bin/chromium. When either is missing it
# installs Debian's `chromium` and `chromium-driver` (they come as a matched
# pair), refreshing apt's lists only if the install fails without them.
# With --chromium it prints the Chromium path instead.
set -euo pipefail

want=chromedriver
case "${1:-}" in
  "") ;;
  --chromium) want=chromium ;;
  *) echo "usage: $0 [--chromium]" >&2; exit 2 ;;
esac

find_tool() { # name env-value
  local candidate
  for candidate in "$2" "$(command -v "$1" 2>/dev/null || true)" "/usr/bin/$1"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

driver=$(find_tool chromedriver "${CHROMEDRIVER:-}" || true)
browser=$(find_tool chromium "${CHROMIUM:-}" || true)

if [ -z "$driver" ] || [ -z "$browser" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "error: chromium and chromedriver are needed for the browser tests, and installing them needs root." >&2
    echo "       Run: sudo apt-get install -y --no-install-recommends chromium chromium-driver" >&2
    echo "       or set CHROMEDRIVER and CHROMIUM to an installed pair." >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: chromium and chromedriver are needed for the browser tests, and apt-get is not available here." >&2
    echo "       Install Chromium and its matching chromedriver, then set CHROMEDRIVER and CHROMIUM to them." >&2
    exit 1
  fi
  echo "Installing chromium and chromium-driver with apt-get (a minute or two)..." >&2
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  install=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends chromium chromium-driver)
  if ! "${install[@]}" >"$log" 2>&1; then
    # A fresh machine has no package lists yet, or stale ones.
    if ! { "${as_root[@]}" apt-get update -q && "${install[@]}"; } >"$log" 2>&1; then
      cat "$log" >&2
      echo "error: could not install chromium and chromium-driver (apt-get output above)." >&2
      echo "       Check that Debian's package mirror answers, or install them yourself and set CHROMEDRIVER and CHROMIUM." >&2
      exit 1
    fi
  fi
  driver=$(find_tool chromedriver "${CHROMEDRIVER:-}" || true)
  browser=$(find_tool chromium "${CHROMIUM:-}" || true)
  if [ -z "$driver" ] || [ -z "$browser" ]; then
    echo "error: apt-get installed chromium and chromium-driver, yet chromedriver or chromium is still not found." >&2
    echo "       Set CHROMEDRIVER and CHROMIUM to their paths." >&2
    exit 1
  fi
fi

if [ "$want" = chromium ]; then
  echo "$browser"
else
  echo "$driver"
fi
