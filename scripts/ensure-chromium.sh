#!/usr/bin/env bash
# Make sure a headless-capable Chromium is installed; print its path.
#
#   scripts/ensure-chromium.sh        print the path of chromium (installing it if missing)
#
# Uses $CHROMIUM when set and executable, else chromium or chromium-browser on PATH,
# else installs Debian's chromium package with apt-get (needs root). Only the path goes
# to stdout; progress and errors go to stderr. Exit status 1 when none can be had.
set -euo pipefail

say() { echo "ensure-chromium: $*" >&2; }

find_chromium() {
    if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then echo "$CHROMIUM"; return 0; fi
    local c
    for c in chromium chromium-browser; do
        if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
    done
    [ -x /usr/bin/chromium ] && { echo /usr/bin/chromium; return 0; }
    return 1
}

if path="$(find_chromium)"; then echo "$path"; exit 0; fi

command -v apt-get >/dev/null 2>&1 || { say "error: chromium is missing and apt-get is not available"; exit 1; }
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "error: chromium is missing; installing it needs root"; exit 1; }
    SUDO="sudo -n"
fi
say "installing Debian's chromium package (apt-get)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || say "warning: apt-get update failed; trying the install anyway"
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2 \
    || $SUDO apt-get install -y -qq chromium >&2 \
    || { say "error: apt-get install chromium failed"; exit 1; }

if path="$(find_chromium)"; then echo "$path"; exit 0; fi
say "error: chromium was installed but no executable was found"
exit 1
