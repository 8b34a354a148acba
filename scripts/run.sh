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

# Every process gets a session of its own, so Ctrl-C in the terminal reaches
# this script and not the processes: the script stops them in order (services
# before the NATS they flush their outbox to), and a supervisor never mistakes
# Ctrl-C for a crash. setsid is in util-linux, on every Debian; without it
# Ctrl-C reaches the processes too, and a restart line may be printed on the
# way out.
DETACH=()
if command -v setsid >/dev/null; then DETACH=(setsid); fi

listening() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Whether NAME answers: nats-server accepts connections, a service's /readyz
# says its database and NATS are reachable.
ready() {
  if [ "$1" = nats ]; then
    listening "${PORT[nats]}"
  else
    curl -fsS --max-time 2 "http://127.0.0.1:${PORT[$1]}/readyz" >/dev/null 2>&1
  fi
}

now() { printf '%(%H:%M:%S)T' -1; }

# supervise NAME COMMAND...: run in the background, one per process. Starts
# COMMAND with its output in var/log/NAME.log and, whenever it stops, starts it
# again (appending to the same log) after a back-off that doubles from 1 s up
# to 30 s, and goes back to 1 s once the process has stayed up for a minute.
# On SIGTERM: SIGTERM to the process, STOP_GRACE seconds to drain, SIGKILL.
# The first start must answer within 20 s, or the supervisor prints the log
# tail and exits 1, which stops everything: a process that cannot start once
# will not start on the next try either.
supervise() {
  # A supervisor is a subshell of its own: these globals are its alone.
  name=$1 log=var/log/$1.log child='' stopping=0 restarts=0 delay=1
  shift
  # Ctrl-C and a closed terminal are the main script's to handle. SIGTERM
  # interrupts the `wait` for the process or for the back-off; the process is
  # told at once, in case the signal lands between two commands.
  trap '' INT HUP
  trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true' TERM
  : >"$log"
  while :; do
    "${DETACH[@]}" "$@" </dev/null >>"$log" 2>&1 &
    child=$!
    started=$SECONDS
    # 2>/dev/null here and on the waits below: bash would print a "Killed"
    # line of its own wherever it notices the process died of a signal; the
    # supervisor's "stopped (exit 137)" line says it better.
    answer=0
    await_ready 2>/dev/null || answer=$?
    if ((stopping)); then break; fi
    if ((restarts == 0)); then
      case $answer in
        0) : >"$run_dir/$name.ready" ;;
        1) echo "error: $name stopped at start; its log:" >&2 ;;
        *) echo "error: $name is not ready after 20 s; its log:" >&2 ;;
      esac
      if ((answer != 0)); then
        tail -20 "$log" >&2
        stop_child
        exit 1
      fi
    elif ((answer == 0)); then
      echo "$name is back at $(now)"
    elif ((answer == 2)); then
      echo "warning: $name is not ready 20 s after its restart; see $log" >&2
    fi

    # `|| code=$?` keeps `set -e` from ending the supervisor on a non-zero exit.
    code=0
    wait "$child" 2>/dev/null || code=$?
    if ((stopping)); then break; fi
    child=''
    restarts=$((restarts + 1))
    if ((SECONDS - started >= 60)); then delay=1; fi
    echo "$name stopped (exit $code) at $(now); restarting in $delay s (restart $restarts); its log: $log" >&2
    # The back-off runs in the background so that SIGTERM ends its `wait` at
    # once; the sleep is then ended too, so that it outlives nothing.
    sleep "$delay" &
    pause=$!
    wait "$pause" 2>/dev/null || true
    kill "$pause" 2>/dev/null || true
    if ((stopping)); then exit 0; fi
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
    echo "--- scripts/run.sh: restarting $name at $(now) after exit $code ---" >>"$log"
  done
  stop_child
}

# Polls until the supervised process answers (0), stops (1) or 20 s pass (2);
# returns early when the supervisor is asked to stop.
await_ready() {
  local tries
  for ((tries = 0; tries < 100; tries++)); do
    if ((stopping)) || ready "$name"; then return 0; fi
    kill -0 "$child" 2>/dev/null || return 1
    sleep 0.2
  done
  return 2
}

# SIGTERM to the supervised process, STOP_GRACE seconds to finish what it is
# doing, then SIGKILL.
stop_child() {
  # Stopping goes on even if the terminal has gone and a message cannot be
  # printed.
  set +e
  local tenths
  kill -TERM "$child" 2>/dev/null || return 0
  for ((tenths = 0; tenths < STOP_GRACE * 10; tenths++)); do
    kill -0 "$child" 2>/dev/null || break
    sleep 0.1 2>/dev/null
  done
  if kill -0 "$child" 2>/dev/null; then
    echo "$name did not stop within $STOP_GRACE s; killing it" >&2
    kill -KILL "$child" 2>/dev/null || true
  fi
  wait "$child" 2>/dev/null || true
}

# start NAME COMMAND...: supervises COMMAND and waits for its first start to
# answer. The supervisor has said why when it gives up.
declare -A SUPERVISOR=()
start() {
  supervise "$@" &
  SUPERVISOR[$1]=$!
  until [ -e "$run_dir/$1.ready" ]; do
    kill -0 "${SUPERVISOR[$1]}" 2>/dev/null || exit 1
    sleep 0.1
  done
}

# stop_supervisors NAME...: SIGTERM to their supervisors, and wait for them.
stop_supervisors() {
  local name pids=()
  for name in "$@"; do
    if [ -n "${SUPERVISOR[$name]:-}" ]; then pids+=("${SUPERVISOR[$name]}"); fi
  done
  if ((${#pids[@]} == 0)); then return 0; fi
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
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
