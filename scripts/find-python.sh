#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 supports 3.8 to 3.10; Kefu uses 3.10).
# Looks at $PYTHON, the PATH, pyenv's versions and the usual system places.
set -u

is_310() { "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.10 python3 python)
if command -v pyenv >/dev/null 2>&1; then
  for dir in "$(pyenv root)"/versions/3.10.*; do candidates+=("$dir/bin/python3.10"); done
fi
for dir in "$HOME"/.pyenv/versions/3.10.* /opt/pyenv/versions/3.10.*; do candidates+=("$dir/bin/python3.10"); done
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10)

for candidate in "${candidates[@]}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if is_310 "$path"; then
    echo "$path"
    exit 0
  fi
done

cat >&2 <<'MSG'
Kefu needs Python 3.10 (Rasa 3.6.21, the last open-source Rasa, supports Python 3.8 to 3.10).
None was found on the PATH, in pyenv or in /usr/bin and /usr/local/bin. Install one, then run make again:
  - with pyenv:   pyenv install 3.10
  - on Debian/Ubuntu: apt-get install python3.10 python3.10-venv   (or the deadsnakes PPA on Ubuntu)
  - or point Kefu at it: make run PYTHON=/path/to/python3.10
MSG
exit 1
