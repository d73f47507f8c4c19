#!/usr/bin/env bash
# Start Kefu's action server, then the Rasa server (`serve.sh run`) or an interactive
# `rasa shell` (`serve.sh shell`). Ctrl-C stops both. Expects `make install store train` done.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
rasa_port=${KEFU_PORT:-5005}
actions_port=5055   # endpoints.yml points Rasa at this port
mkdir -p var/log

.venv/bin/python -m rasa_sdk --actions actions --port "$actions_port" > var/log/actions.log 2>&1 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 60); do
  if curl -sf "http://localhost:$actions_port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$actions_pid" 2>/dev/null; then
    echo "The action server did not start; see var/log/actions.log:" >&2
    tail -20 var/log/actions.log >&2
    exit 1
  fi
  sleep 1
done

if [ "$mode" = shell ]; then
  .venv/bin/rasa shell -m models/kefu.tar.gz --endpoints endpoints.yml
  exit $?
fi

cat <<MSG

  Kefu is starting (loading the model takes about a minute on 2 cores).
  When "Rasa server is up and running" appears, talk to it:

    REST:      curl -s -XPOST localhost:$rasa_port/webhooks/rest/webhook \\
                 -H 'Content-Type: application/json' -d '{"sender": "me", "message": "where is my order?"}'
    Socket.IO: http://localhost:$rasa_port/socket.io (events user_uttered / bot_uttered), e.g. the Rasa web widget
    Parse:     curl -s localhost:$rasa_port/model/parse -d '{"text": "do you have the keyboard with clicky switches?"}'
    Shell:     make shell (in another terminal, after stopping this one)

  Try the customer noah.brown7922@example.com (or "Noah Brown, 80279"). Action server log: var/log/actions.log
  Ctrl-C stops Kefu.

MSG
.venv/bin/rasa run --enable-api --cors "*" --port "$rasa_port" -m models/kefu.tar.gz \
  --credentials credentials.yml --endpoints endpoints.yml
