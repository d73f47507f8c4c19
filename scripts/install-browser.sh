#!/usr/bin/env bash
# Debian's chromium for the console's browser tests (driven by Playwright, never a browser download).
# Needs root (or sudo); .ci/run calls it on a clean machine. Developers without it: the browser
# tests skip with a message saying so.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
as_root=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then as_root="sudo"; else
    echo "install-browser: chromium is missing and this is not root: apt-get install chromium" >&2; exit 1
  fi
fi
echo "Installing Debian's chromium for the browser tests"
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >/dev/null
