#!/usr/bin/env bash
# Kefu's whole test suite (called by `make test`, which installs and trains first).
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3

echo "== lint (ruff)"
.venv/bin/ruff check .
.venv/bin/ruff format --check . >/dev/null || { .venv/bin/ruff format --check .; exit 1; }

echo "== conversation stories (rasa test, --fail-on-prediction-errors)"
rm -rf results/stories && mkdir -p results
if ! .venv/bin/rasa test core --e2e --model models/kefu.tar.gz --stories tests/conversations \
      --fail-on-prediction-errors --out results/stories > results/rasa-test.log 2>&1; then
  grep -v "Warning\|warn(" results/rasa-test.log | tail -40
  echo "rasa test failed: failed stories are in results/stories/failed_test_stories.yml" >&2
  exit 1
fi
grep -E "Correct:|Finished evaluation|stories" results/rasa-test.log | tail -5 || true

echo "== pytest (store, actions, data validation, live conversations)"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
