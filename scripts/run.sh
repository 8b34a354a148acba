#!/usr/bin/env bash
# Starts a local nats-server with JetStream and every Pathway service on its
# embedded defaults (SQLite under ./var/), prints where to point a browser,
# and stops them all on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

NATS_SERVER=${NATS_SERVER:-$(scripts/nats-server.sh)}
NATS_PORT=${NATS_PORT:-14222}
BIN=target/debug
mkdir -p var/nats var/log

pids=()
stop() {
  trap - EXIT INT TERM
  echo
  echo "Stopping Pathway..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

if (echo > "/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; then
  echo "error: port $NATS_PORT is taken; set NATS_PORT=... (make run NATS_PORT=24222)" >&2
  exit 1
fi
"$NATS_SERVER" -a 127.0.0.1 -p "$NATS_PORT" -js -sd var/nats >var/log/nats.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (echo > "/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && break
  sleep 0.1
done

export PATHWAY_NATS__URL="nats://127.0.0.1:$NATS_PORT"
export PATHWAY_INTAKE__POSTCODE_LOOKUP_FILE="${PATHWAY_INTAKE__POSTCODE_LOOKUP_FILE:-deploy/boards/postcodes.sample.csv}"

start() { # name port
  "$BIN/$1" >"var/log/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$2/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "error: $1 stopped at start; its log:" >&2
      tail -20 "var/log/$1.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "error: $1 is not ready after 20 s; see var/log/$1.log" >&2
  exit 1
}

start intake "${PATHWAY_INTAKE__HTTP__PORT:-8081}"
start vetting "${PATHWAY_VETTING__HTTP__PORT:-8082}"
start decision "${PATHWAY_DECISION__HTTP__PORT:-8083}"
start notification "${PATHWAY_NOTIFICATION__HTTP__PORT:-8084}"
start analytics "${PATHWAY_ANALYTICS__HTTP__PORT:-8085}"

cat <<MSG

Pathway is running (logs in var/log/, data in var/):
  NATS (JetStream)   nats://127.0.0.1:$NATS_PORT
  vetting            http://127.0.0.1:${PATHWAY_VETTING__HTTP__PORT:-8082}/   <- open in a browser: the clinicians' worklist
  intake             http://127.0.0.1:${PATHWAY_INTAKE__HTTP__PORT:-8081}/   (boards on the pathway, links to the API)
  decision           http://127.0.0.1:${PATHWAY_DECISION__HTTP__PORT:-8083}/openapi.json
  notification       http://127.0.0.1:${PATHWAY_NOTIFICATION__HTTP__PORT:-8084}/openapi.json   (messages: var/outbox-messages/<board>/<referral>/; target/debug/pathway deliveries list)
  analytics          http://127.0.0.1:${PATHWAY_ANALYTICS__HTTP__PORT:-8085}/dashboard   <- evaluators (token: pathway token --role evaluator --board highland)
  Every service: /openapi.json, /healthz, /readyz, /metrics

Try it:
  target/debug/pathway board enable highland
  target/debug/pathway demo --referrals 50
  target/debug/pathway token --role clinician --board highland --name "Dr Jane Doe"
      -> paste the token into the vetting page's sign-in, claim a referral, record an outcome
  target/debug/pathway status <referral id>

Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "A Pathway process stopped; see var/log/." >&2
