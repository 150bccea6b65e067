#!/usr/bin/env bash
# Make sure Node.js and npm are installed (the FHIR tests run Medplum's validator on them).
#
#   scripts/ensure-node.sh        exit 0 when node and npm are on PATH (installing Debian's packages if missing)
#
# Installs Debian's nodejs and npm packages with apt-get (needs root). Progress and errors go to
# stderr. Exit status 1 when they cannot be had.
set -euo pipefail

say() { echo "ensure-node: $*" >&2; }
have() { command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; }

if have; then exit 0; fi
command -v apt-get >/dev/null 2>&1 || { say "error: node/npm are missing and apt-get is not available"; exit 1; }
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "error: node/npm are missing; installing them needs root"; exit 1; }
    SUDO="sudo -n"
fi
say "installing Debian's nodejs and npm packages (apt-get)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 || say "warning: apt-get update failed; trying the install anyway"
$SUDO apt-get install -y -qq --no-install-recommends nodejs npm >&2 || { say "error: apt-get install failed"; exit 1; }
have || { say "error: nodejs and npm were installed but are not on PATH"; exit 1; }
