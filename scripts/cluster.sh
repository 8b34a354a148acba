#!/usr/bin/env bash
# Starts Pathway's production topology on one machine: three clustered
# nats-server nodes with JetStream (streams on three replicas), a PostgreSQL
# database per service, two instances of every service, and an OpenTelemetry
# collector when one is installed. Prints where to point a browser and the
# CLI, starts again whichever process stops, and stops them all on Ctrl-C.
#
#   scripts/cluster.sh            run until Ctrl-C
#   scripts/cluster.sh --smoke    start, send one referral, check that it went
#                                 everywhere it should, stop; exit 0 or 1
#                                 (CLUSTER_SMOKE=1 does the same)
#
# Settings (environment):
#   DATABASE_URL          PostgreSQL server, postgres://user[:password]@host:port
#                         (default postgres://postgres@127.0.0.1:5432); the
#                         databases pathway_intake, ... are created there
#   CLUSTER_NATS_PORT     first node's client port, the others the next two (24222)
#   CLUSTER_ROUTE_PORT    first node's cluster route port (26222)
#   CLUSTER_MONITOR_PORT  first node's monitoring port (28222)
#   CLUSTER_HTTP_PORT     intake's first instance; vetting, decision,
#                         notification, analytics follow, and each second
#                         instance is 100 above its first (9081)
#   CLUSTER_OTLP_PORT     the collector's OTLP/HTTP port (24318)
#   OTELCOL               a collector binary (default otelcol-contrib or otelcol on PATH)
#
# Data (NATS stores, keys, logs, messages) lives under var/cluster/, apart
# from `make run`'s; the databases stay in PostgreSQL between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=${CLUSTER_SMOKE:-0}
for arg in "$@"; do
  case $arg in
    --smoke) SMOKE=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "error: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

NATS_SERVER=${NATS_SERVER:-$(scripts/nats-server.sh)}
NATS_PORT=${CLUSTER_NATS_PORT:-24222}
ROUTE_PORT=${CLUSTER_ROUTE_PORT:-26222}
MONITOR_PORT=${CLUSTER_MONITOR_PORT:-28222}
HTTP_PORT=${CLUSTER_HTTP_PORT:-9081}
OTLP_PORT=${CLUSTER_OTLP_PORT:-24318}
BIN=target/debug
STOP_GRACE=${STOP_GRACE:-5} # seconds a process has to drain after SIGTERM, before SIGKILL
DIR=var/cluster
LOG_DIR=$DIR/log
NODES=(nats-1 nats-2 nats-3)
SERVICES=(intake vetting decision notification analytics)
INSTANCES=()
declare -A PORT=() MONITOR=()
for i in 0 1 2; do
  PORT[nats-$((i + 1))]=$((NATS_PORT + i))
  MONITOR[nats-$((i + 1))]=$((MONITOR_PORT + i))
done
for n in 1 2; do
  for i in "${!SERVICES[@]}"; do
    PORT[${SERVICES[$i]}-$n]=$((HTTP_PORT + 100 * (n - 1) + i))
  done
done
for n in 1 2; do
  for service in "${SERVICES[@]}"; do INSTANCES+=("$service-$n"); done
done
mkdir -p "$DIR/secrets" "$LOG_DIR"

# shellcheck source=lib/supervise.sh
source scripts/lib/supervise.sh

# Whether NAME answers: a node's monitoring port answers (asked there, not
# on the client port, which logs a probe as a bad client), the collector
# accepts OTLP, a service instance's /readyz says its database and NATS are
# reachable.
ready() {
  case $1 in
    nats-*) curl -fsS --max-time 2 "http://127.0.0.1:${MONITOR[$1]}/varz" >/dev/null 2>&1 ;;
    otelcol) listening "${PORT[$1]}" ;;
    *) curl -fsS --max-time 2 "http://127.0.0.1:${PORT[$1]}/readyz" >/dev/null 2>&1 ;;
  esac
}

# Whether node NAME's JetStream is current with the cluster, and every stream
# it holds has a leader (after a restart a service cannot read a stream
# until its replicas have elected one).
healthy() {
  curl -fsS --max-time 2 "http://127.0.0.1:${MONITOR[$1]}/healthz" >/dev/null 2>&1 &&
    curl -fsS --max-time 2 "http://127.0.0.1:${MONITOR[$1]}/jsz?accounts=true&streams=true" 2>/dev/null |
    python3 -c 'import json, sys
streams = [s for a in json.load(sys.stdin).get("account_details", []) for s in a.get("stream_detail", [])]
sys.exit(0 if all(s.get("cluster", {}).get("leader") for s in streams) else 1)' 2>/dev/null
}

# Services first, so they can finish their work in flight and flush their
# outbox to NATS; then the collector; the nodes last.
stop() { # exit status
  set +e # as in stop_child: on a closed terminal, echo fails
  trap '' INT TERM HUP
  trap - EXIT
  echo
  echo "Stopping the Pathway cluster..."
  stop_supervisors "${INSTANCES[@]}"
  stop_supervisors otelcol
  stop_supervisors "${NODES[@]}"
  rm -rf "$run_dir"
  echo "Pathway cluster stopped."
  exit "$1"
}

# --- PostgreSQL: one database per service -------------------------------------

database_url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432}
if [[ $database_url =~ ^(postgres(ql)?://[^/?]+)(/[^?]*)?(\?.*)?$ ]]; then
  database_server=${BASH_REMATCH[1]}
  database_options=${BASH_REMATCH[4]}
else
  echo "error: DATABASE_URL=$database_url is not a postgres:// URL" >&2
  exit 1
fi
# The server's address without a password, for messages.
database_shown=$(sed -E 's|//([^:@/]*):[^@/]*@|//\1:***@|' <<<"$database_server")
if ! command -v psql >/dev/null; then
  echo "error: psql is needed to create the databases (Debian: apt-get install postgresql-client)" >&2
  exit 1
fi
psql_in() { # DATABASE SQL
  PGCONNECT_TIMEOUT=3 psql "$database_server/$1$database_options" -X -A -t -q -v ON_ERROR_STOP=1 -c "$2"
}
if ! why=$(psql_in postgres 'SELECT 1' 2>&1 >/dev/null); then
  echo "error: no PostgreSQL answers at $database_shown (${why%%$'\n'*})." >&2
  echo "Start one, or set DATABASE_URL=postgres://user:password@host:port to a server where" >&2
  echo "that user may create databases (pathway_intake, pathway_vetting, ... are created there)." >&2
  exit 1
fi
for service in "${SERVICES[@]}"; do
  if [ -z "$(psql_in postgres "SELECT 1 FROM pg_database WHERE datname = 'pathway_$service'")" ]; then
    psql_in postgres "CREATE DATABASE pathway_$service"
    echo "Created the database pathway_$service at $database_shown."
  fi
done

# --- Ports, collector ---------------------------------------------------------

OTELCOL=${OTELCOL:-$(command -v otelcol-contrib || command -v otelcol || true)}
if [ -n "$OTELCOL" ]; then PORT[otelcol]=$OTLP_PORT; fi
for name in "${!PORT[@]}"; do
  if listening "${PORT[$name]}"; then
    case $name in
      nats-*) hint="set CLUSTER_NATS_PORT=..." ;;
      otelcol) hint="set CLUSTER_OTLP_PORT=..." ;;
      *) hint="set CLUSTER_HTTP_PORT=..." ;;
    esac
    echo "error: port ${PORT[$name]} ($name) is taken; $hint" >&2
    exit 1
  fi
done
for name in "${NODES[@]}"; do
  if listening "${MONITOR[$name]}" || listening $((ROUTE_PORT + ${name#nats-} - 1)); then
    echo "error: port $((ROUTE_PORT + ${name#nats-} - 1)) or ${MONITOR[$name]} ($name) is taken;" \
      "set CLUSTER_ROUTE_PORT=... or CLUSTER_MONITOR_PORT=..." >&2
    exit 1
  fi
done

run_dir=$(mktemp -d) # "NAME.ready" once NAME's first start has answered
trap 'stop 1' EXIT
trap 'stop 0' INT TERM HUP

# --- NATS: three nodes --------------------------------------------------------

# deploy/nats/cluster-node.conf's JetStream and cluster blocks, on loopback,
# without TLS or per-service users. The same store on every start, so a
# restarted node keeps the streams and catches up with the others.
routes=''
for i in 0 1 2; do routes+="    nats-route://127.0.0.1:$((ROUTE_PORT + i))"$'\n'; done
for i in 0 1 2; do
  name=${NODES[$i]}
  mkdir -p "$DIR/$name"
  cat >"$DIR/$name.conf" <<CONF
# Written by scripts/cluster.sh at each start.
server_name: pathway-$name
listen: 127.0.0.1:${PORT[$name]}
http: 127.0.0.1:${MONITOR[$name]}
jetstream {
  store_dir: "$PWD/$DIR/$name"
  sync_interval: always
  max_memory_store: 64MB
  max_file_store: 4GB
}
cluster {
  name: pathway
  listen: 127.0.0.1:$((ROUTE_PORT + i))
  routes: [
$routes  ]
}
CONF
  start "$name" "$NATS_SERVER" -c "$DIR/$name.conf"
done
# A node's JetStream is current once the three have elected a leader, and
# its streams are readable once their replicas have elected theirs.
for ((tries = 0; ; tries++)); do
  if healthy nats-1 && healthy nats-2 && healthy nats-3; then break; fi
  if ((tries == 300)); then
    echo "error: the NATS nodes did not form a healthy cluster within 60 s; see $LOG_DIR/nats-*.log" >&2
    exit 1
  fi
  sleep 0.2
done

# --- OpenTelemetry collector --------------------------------------------------

if [ -n "$OTELCOL" ]; then
  # Spans in over OTLP/HTTP, a summary of each batch into its log.
  cat >"$DIR/otelcol.yaml" <<CONF
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$OTLP_PORT
exporters:
  debug:
    verbosity: basic
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
CONF
  start otelcol "$OTELCOL" --config "$DIR/otelcol.yaml"
  export PATHWAY_TELEMETRY__OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT"
  telemetry="  OpenTelemetry                 http://127.0.0.1:$OTLP_PORT (OTLP/HTTP; spans summarised in $LOG_DIR/otelcol.log)"
else
  echo "No OpenTelemetry collector started (no otelcol-contrib or otelcol on PATH); set OTELCOL=... to one."
  telemetry="  OpenTelemetry                 not started (set OTELCOL to a collector binary)"
fi

# --- Services: two instances each ---------------------------------------------

nats_urls=''
for name in "${NODES[@]}"; do nats_urls+="${nats_urls:+,}nats://127.0.0.1:${PORT[$name]}"; done
export PATHWAY_NATS__URL=$nats_urls
export PATHWAY_NATS__REPLICAS=3
# The two instances of a service share every key, so that a token, a form or
# a pseudonym one made is good at the other; the CLI signs with the same key.
export PATHWAY_AUTH__LOCAL_KEY_FILE=$DIR/secrets/jwt-signing.key
export PATHWAY_INTAKE__PSEUDONYM_KEY_FILE=$DIR/secrets/pseudonym.key
export PATHWAY_NOTIFICATION__WEBHOOK__SIGNING_KEY_FILE=$DIR/secrets/webhook-ed25519.key
export PATHWAY_NOTIFICATION__SINK__DIR=$DIR/outbox-messages
export PATHWAY_INTAKE__POSTCODE_LOOKUP_FILE="${PATHWAY_INTAKE__POSTCODE_LOOKUP_FILE:-deploy/boards/postcodes.sample.csv}"
for name in "${INSTANCES[@]}"; do
  service=${name%-*}
  prefix=PATHWAY_${service^^}_
  start "$name" env \
    "${prefix}_HTTP__PORT=${PORT[$name]}" \
    "${prefix}_DATABASE__URL=$database_server/pathway_$service$database_options" \
    "${prefix}_AUTH__CSRF_KEY_FILE=$DIR/secrets/csrf-$service.key" \
    "$BIN/$service"
done

# What the CLI needs to reach the first instances, and sign with the cluster's key.
cat >"$DIR/cli.env" <<ENV
export PATHWAY_INTAKE_URL=http://127.0.0.1:${PORT[intake-1]}
export PATHWAY_VETTING_URL=http://127.0.0.1:${PORT[vetting-1]}
export PATHWAY_DECISION_URL=http://127.0.0.1:${PORT[decision-1]}
export PATHWAY_NOTIFICATION_URL=http://127.0.0.1:${PORT[notification-1]}
export PATHWAY_ANALYTICS_URL=http://127.0.0.1:${PORT[analytics-1]}
export PATHWAY_AUTH__LOCAL_KEY_FILE=$DIR/secrets/jwt-signing.key
ENV

if ((SMOKE)); then
  # shellcheck source=lib/cluster-smoke.sh
  source scripts/lib/cluster-smoke.sh
  if smoke; then stop 0; else stop 1; fi
fi

both() { echo "http://127.0.0.1:${PORT[$1-1]}$2  http://127.0.0.1:${PORT[$1-2]}$2"; }
cat <<MSG

The Pathway cluster is running (logs in $LOG_DIR/, data in $DIR/ and PostgreSQL at $database_shown):
  NATS (JetStream, 3 replicas)  $nats_urls
                                monitoring: http://127.0.0.1:${MONITOR[nats-1]}/jsz ... :${MONITOR[nats-3]}/jsz
$telemetry
  Two instances of each service (either one serves every request):
  vetting       $(both vetting /)   <- open in a browser: the clinicians' worklist
  intake        $(both intake /)
  decision      $(both decision /openapi.json)
  notification  $(both notification /openapi.json)   (messages: $DIR/outbox-messages/)
  analytics     $(both analytics /dashboard)   <- evaluators
  Every instance: /openapi.json, /healthz, /readyz, /metrics

Point the CLI at it (from this folder; it signs tokens with the cluster's key):
  source $DIR/cli.env        (or pass --intake-url ... --key-file $DIR/secrets/jwt-signing.key)
  target/debug/pathway board enable highland
  target/debug/pathway demo --referrals 50
  target/debug/pathway token --role clinician --board highland --name "Dr Jane Doe"
  PATHWAY_INTAKE_URL=http://127.0.0.1:${PORT[intake-2]} target/debug/pathway status <referral id>

A process that stops is started again (its log: $LOG_DIR/<name>.log).
Press Ctrl-C to stop.
MSG

# Supervisors run until told to stop. One that ends by itself was killed from
# outside, and its process is no longer looked after: stop everything.
code=0
wait -n "${SUPERVISOR[@]}" || code=$?
echo "error: a supervisor stopped (exit $code); see $LOG_DIR/." >&2
exit 1
