#!/usr/bin/env bash
# The Debian packages the tests drive: chromium for the console's and the widget's browser tests
# (driven by Playwright, never a browser download), a CJK font so Chinese renders in them (and in
# reports/widget.png), and redis-server for the production profile's tests (`make run-production`).
# Needs root (or sudo); .ci/run calls it on a clean machine. Developers without them: those tests
# skip with a message saying so.
set -euo pipefail
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
[ -d /usr/share/fonts/truetype/wqy ] || packages+=(fonts-wqy-zenhei)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
as_root=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then as_root="sudo"; else
    echo "install-test-packages: ${packages[*]} missing and this is not root: apt-get install ${packages[*]}" >&2; exit 1
  fi
fi
echo "Installing Debian's ${packages[*]} for the tests"
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "${packages[@]}" >/dev/null
