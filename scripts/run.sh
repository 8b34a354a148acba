#!/usr/bin/env bash
# Starts a local nats-server with JetStream and every Pathway service on its
# embedded defaults (SQLite under ./var/), prints where to point a browser,
# starts again whichever of them stops, and stops them all on Ctrl-C.
#
# Each process runs under its own supervisor: a background subshell running
# `supervise`, which starts the process, waits for it and starts it again when
# it stops. Ctrl-C or SIGTERM reaches this script only; it sends SIGTERM to the
# services' supervisors, waits for them, then does the same for nats-server's.
set -euo pipefail
cd "$(dirname "$0")/.."

NATS_SERVER=${NATS_SERVER:-$(scripts/nats-server.sh)}
NATS_PORT=${NATS_PORT:-14222}
BIN=target/debug
STOP_GRACE=${STOP_GRACE:-5} # seconds a process has to drain after SIGTERM, before SIGKILL
SERVICES=(intake vetting decision notification analytics)
declare -A PORT=(
  [nats]=$NATS_PORT
  [intake]=${PATHWAY_INTAKE__HTTP__PORT:-8081}
  [vetting]=${PATHWAY_VETTING__HTTP__PORT:-8082}
  [decision]=${PATHWAY_DECISION__HTTP__PORT:-8083}
  [notification]=${PATHWAY_NOTIFICATION__HTTP__PORT:-8084}
  [analytics]=${PATHWAY_ANALYTICS__HTTP__PORT:-8085}
)
mkdir -p var/nats var/log

# supervise, start, stop_supervisors and the helpers they use.
# shellcheck source=lib/supervise.sh
source scripts/lib/supervise.sh

# Whether NAME answers: nats-server accepts connections, a service's /readyz
# says its database and NATS are reachable.
ready() {
  if [ "$1" = nats ]; then
    listening "${PORT[nats]}"
  else
    curl -fsS --max-time 2 "http://127.0.0.1:${PORT[$1]}/readyz" >/dev/null 2>&1
  fi
}

# Services first, so they can finish their work in flight and flush their
# outbox to NATS; nats-server last. A second Ctrl-C does not cut this short:
# every process is killed within STOP_GRACE seconds anyway.
stop() { # exit status
  set +e # as in stop_child: on a closed terminal, echo fails
  trap '' INT TERM HUP
  trap - EXIT
  echo
  echo "Stopping Pathway..."
  stop_supervisors "${SERVICES[@]}"
  stop_supervisors nats
  rm -rf "$run_dir"
  echo "Pathway stopped."
  exit "$1"
}

for name in nats "${SERVICES[@]}"; do
  if listening "${PORT[$name]}"; then
    if [ "$name" = nats ]; then
      hint="set NATS_PORT=... (make run NATS_PORT=24222)"
    else
      hint="set PATHWAY_${name^^}__HTTP__PORT=..."
    fi
    echo "error: port ${PORT[$name]} ($name) is taken; $hint" >&2
    exit 1
  fi
done

run_dir=$(mktemp -d) # "NAME.ready" once NAME's first start has answered
trap 'stop 1' EXIT
trap 'stop 0' INT TERM HUP

# The same store directory on every start, so a restarted nats-server keeps
# the JetStream streams and the messages in them.
start nats "$NATS_SERVER" -a 127.0.0.1 -p "$NATS_PORT" -js -sd var/nats

export PATHWAY_NATS__URL="nats://127.0.0.1:$NATS_PORT"
export PATHWAY_INTAKE__POSTCODE_LOOKUP_FILE="${PATHWAY_INTAKE__POSTCODE_LOOKUP_FILE:-deploy/boards/postcodes.sample.csv}"
for name in "${SERVICES[@]}"; do
  start "$name" "$BIN/$name"
done

cat <<MSG

Pathway is running (logs in var/log/, data in var/):
  NATS (JetStream)   nats://127.0.0.1:$NATS_PORT
  vetting            http://127.0.0.1:${PORT[vetting]}/   <- open in a browser: the clinicians' worklist
  intake             http://127.0.0.1:${PORT[intake]}/   (boards on the pathway, links to the API)
  decision           http://127.0.0.1:${PORT[decision]}/openapi.json
  notification       http://127.0.0.1:${PORT[notification]}/openapi.json   (messages: var/outbox-messages/<board>/<referral>/; target/debug/pathway deliveries list)
  analytics          http://127.0.0.1:${PORT[analytics]}/dashboard   <- evaluators (token: pathway token --role evaluator --board highland)
  Every service: /openapi.json, /healthz, /readyz, /metrics

Try it:
  target/debug/pathway board enable highland
  target/debug/pathway demo --referrals 50
  target/debug/pathway token --role clinician --board highland --name "Dr Jane Doe"
      -> paste the token into the vetting page's sign-in, claim a referral, record an outcome
  target/debug/pathway status <referral id>

A process that stops is started again (its log: var/log/<name>.log).
Press Ctrl-C to stop.
MSG

# Supervisors run until told to stop. One that ends by itself was killed from
# outside, and its process is no longer looked after: stop everything.
code=0
wait -n "${SUPERVISOR[@]}" || code=$?
echo "error: a supervisor stopped (exit $code); see var/log/." >&2
exit 1
