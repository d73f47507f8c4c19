#!/usr/bin/env bash
# Start Kefu's action server, then the Rasa server (`serve.sh run`) or an interactive
# `rasa shell` (`serve.sh shell`). Ctrl-C stops both. Expects `make install store train` done.
#
# `serve.sh production`: the same assistant on every core. Rasa and the action server run one
# worker a core (KEFU_RASA_WORKERS, KEFU_ACTION_WORKERS), sharing conversations and locks through
# Redis (endpoints.production.yml): a local one started here on 127.0.0.1 with a generated
# password (var/secrets/redis_password), unless KEFU_REDIS_HOST (and KEFU_REDIS_PORT) name yours.
#
# Secure by default: both servers listen on localhost (KEFU_HOST or kefu.yml security.host to
# change it), Rasa's HTTP API needs a token (KEFU_API_TOKEN, else generated once into
# var/secrets/api_token), the action server answers only calls carrying the shared secret
# (KEFU_ACTION_TOKEN, same), and no web origin may call the API unless kefu.yml
# security.cors_origins (or KEFU_CORS_ORIGINS) names it.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
case "$mode" in run|shell|production) ;; *) echo "usage: scripts/serve.sh [run|shell|production]" >&2; exit 2;; esac
py=.venv/bin/python
rasa_port=${KEFU_PORT:-5005}
actions_port=${KEFU_ACTIONS_PORT:-5055}
log_dir=${KEFU_LOG_DIR:-var/log}
mkdir -p "$log_dir"

setting() { "$py" -c "from kefu.security.settings import security_settings as s; print($1)"; }
host=$(setting 's().host')
cors=$(setting '" ".join(s().cors_origins)')
new_token=""
if [ -z "${KEFU_API_TOKEN:-}" ] && [ ! -f var/secrets/api_token ]; then new_token=yes; fi
KEFU_API_TOKEN=$("$py" -m kefu.security secret api_token)
KEFU_ACTION_TOKEN=$("$py" -m kefu.security secret action_token)
KEFU_SOURCE_KEY=$("$py" -m kefu.security secret source_key)
export KEFU_API_TOKEN KEFU_ACTION_TOKEN KEFU_SOURCE_KEY
export KEFU_ACTION_URL=${KEFU_ACTION_URL:-http://127.0.0.1:$actions_port/webhook}

children=()
trap 'kill "${children[@]}" 2>/dev/null || true' EXIT INT TERM

endpoints=endpoints.yml
if [ "$mode" = production ]; then
  endpoints=endpoints.production.yml
  cores=$(nproc 2>/dev/null || echo 2)
  export SANIC_WORKERS=${KEFU_RASA_WORKERS:-$cores} ACTION_SERVER_SANIC_WORKERS=${KEFU_ACTION_WORKERS:-$cores}
  # Every Rasa worker runs its own e5 and every action worker its own small model: their C
  # engines share the cores out rather than each starting a thread a core (oversubscribed
  # OpenMP threads spin against each other).
  share() { local n=$(( cores / $1 )); echo $(( n > 0 ? n : 1 )); }
  export KEFU_E5_THREADS=${KEFU_E5_THREADS:-$(share "$SANIC_WORKERS")}
  export KEFU_LLM_THREADS=${KEFU_LLM_THREADS:-$(share "$ACTION_SERVER_SANIC_WORKERS")}
  export KEFU_REDIS_PORT=${KEFU_REDIS_PORT:-6379}
  KEFU_REDIS_PASSWORD=$("$py" -m kefu.security secret redis_password)
  export KEFU_REDIS_PASSWORD
  if [ -z "${KEFU_REDIS_HOST:-}" ]; then
    if ! command -v redis-server >/dev/null 2>&1; then
      echo "The production profile keeps conversations in Redis: install it (apt-get install redis-server)" >&2
      echo "or set KEFU_REDIS_HOST (and KEFU_REDIS_PORT, KEFU_REDIS_PASSWORD) to a Redis of yours." >&2
      exit 1
    fi
    export KEFU_REDIS_HOST=127.0.0.1
    redis_dir=${KEFU_REDIS_DIR:-var/redis}
    mkdir -p "$redis_dir" && chmod 700 "$redis_dir"
    # The password in a file only we can read, never on a command line that `ps` shows.
    (umask 077 && cat > "$redis_dir/redis.conf" <<CONF
bind 127.0.0.1
protected-mode yes
port $KEFU_REDIS_PORT
requirepass "$KEFU_REDIS_PASSWORD"
dir $(cd "$redis_dir" && pwd)
appendonly yes
save ""
CONF
    )
    redis-server "$redis_dir/redis.conf" > "$log_dir/redis.log" 2>&1 &
    children+=($!)
    for _ in $(seq 1 30); do
      if REDISCLI_AUTH=$KEFU_REDIS_PASSWORD redis-cli -p "$KEFU_REDIS_PORT" ping 2>/dev/null | grep -q PONG; then break; fi
      sleep 0.5
    done
    if ! REDISCLI_AUTH=$KEFU_REDIS_PASSWORD redis-cli -p "$KEFU_REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
      echo "Redis did not start on port $KEFU_REDIS_PORT; see $log_dir/redis.log:" >&2
      tail -5 "$log_dir/redis.log" >&2
      exit 1
    fi
  fi
  # The widget's sockets live in one worker each; agent replies are sent from any (kefu/channels/socketio.py).
  if [ -z "${KEFU_SOCKETIO_REDIS_URL:-}" ]; then
    KEFU_SOCKETIO_REDIS_URL=$("$py" -c 'import os; from urllib.parse import quote; e = os.environ
print("redis://:%s@%s:%s/2" % (quote(e["KEFU_REDIS_PASSWORD"], safe=""), e["KEFU_REDIS_HOST"], e["KEFU_REDIS_PORT"]))')
    export KEFU_SOCKETIO_REDIS_URL
  fi
fi

"$py" -m kefu.security.action_server --port "$actions_port" > "$log_dir/actions.log" 2>&1 &
actions_pid=$!
children+=("$actions_pid")

for _ in $(seq 1 60); do
  if curl -sf "http://127.0.0.1:$actions_port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$actions_pid" 2>/dev/null; then
    echo "The action server did not start; see $log_dir/actions.log:" >&2
    tail -20 "$log_dir/actions.log" >&2
    exit 1
  fi
  sleep 1
done

if [ "$mode" = shell ]; then
  .venv/bin/rasa shell -m models/kefu.tar.gz --endpoints "$endpoints"
  exit $?
fi

cors_args=()
if [ -n "$cors" ]; then
  # shellcheck disable=SC2206 - origins are space-separated URLs
  cors_args=(--cors $cors)
fi
where=$host
case "$host" in 127.0.0.1|localhost|::1) ;; *) where="$host (beyond this machine: put TLS and a firewall in front)";; esac

if [ -n "$new_token" ]; then
  echo
  echo "  Generated the HTTP API token (kept in var/secrets/api_token, readable only by you):"
  echo "    $KEFU_API_TOKEN"
fi
profile=""
if [ "$mode" = production ]; then
  profile="
  Production profile: $SANIC_WORKERS Rasa workers and $ACTION_SERVER_SANIC_WORKERS action-server workers, conversations in Redis at $KEFU_REDIS_HOST:$KEFU_REDIS_PORT."
fi
cat <<MSG
$profile
  Kefu is starting on $where, port $rasa_port (loading the model takes about a minute on 2 cores).
  When "Rasa server is up and running" appears, talk to it:

    Chat page: http://localhost:$rasa_port/webhooks/widget/  (the widget on a sample shop page: /webhooks/widget/demo)
    REST:      curl -s -XPOST localhost:$rasa_port/webhooks/rest/webhook \\
                 -H 'Content-Type: application/json' -d '{"sender": "me", "message": "where is my order?"}'
    Socket.IO: http://localhost:$rasa_port/socket.io (events user_uttered / bot_uttered)
    HTTP API:  needs the token: curl -s "localhost:$rasa_port/status?token=\$(cat var/secrets/api_token)"
               (or KEFU_API_TOKEN; this session's token is in var/secrets/api_token unless you set one)
    Parse:     curl -s "localhost:$rasa_port/model/parse?token=..." -d '{"text": "do you have the keyboard with clicky switches?"}'
    Shell:     make shell (in another terminal, after stopping this one)

  Try the customer noah.brown7922@example.com with zip code 80279 (or "Noah Brown, 80279").
  Action server log: $log_dir/actions.log. Ctrl-C stops Kefu.

MSG
# --auth-token=...: a generated (urlsafe) token may start with "-", which argparse reads as an option.
exec_args=(run --enable-api "--auth-token=$KEFU_API_TOKEN" --interface "$host" --port "$rasa_port"
  -m models/kefu.tar.gz --credentials credentials.yml --endpoints "$endpoints" "${cors_args[@]}")
.venv/bin/rasa "${exec_args[@]}"
