# Process supervision shared by scripts/run.sh and scripts/cluster.sh; source
# it, do not run it. The sourcing script defines `ready NAME` (whether NAME
# answers) and sets `run_dir` (a folder for "NAME.ready" marks) and
# STOP_GRACE; LOG_DIR (default var/log) is where each process's log goes.
#
# Each process runs under its own supervisor: a background subshell running
# `supervise`, which starts the process, waits for it and starts it again when
# it stops. Ctrl-C or SIGTERM reaches the sourcing script only; it sends
# SIGTERM to the supervisors (`stop_supervisors`), which stop their processes.

# Every process gets a session of its own, so Ctrl-C in the terminal reaches
# this script and not the processes: the script stops them in order (services
# before the NATS they flush their outbox to), and a supervisor never mistakes
# Ctrl-C for a crash. setsid is in util-linux, on every Debian; without it
# Ctrl-C reaches the processes too, and a restart line may be printed on the
# way out.
DETACH=()
if command -v setsid >/dev/null; then DETACH=(setsid); fi

listening() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

now() { printf '%(%H:%M:%S)T' -1; }

# supervise NAME COMMAND...: run in the background, one per process. Starts
# COMMAND with its output in $LOG_DIR/NAME.log and, whenever it stops, starts it
# again (appending to the same log) after a back-off that doubles from 1 s up
# to 30 s, and goes back to 1 s once the process has stayed up for a minute.
# On SIGTERM: SIGTERM to the process, STOP_GRACE seconds to drain, SIGKILL.
# The first start must answer within 20 s, or the supervisor prints the log
# tail and exits 1, which stops everything: a process that cannot start once
# will not start on the next try either.
supervise() {
  # A supervisor is a subshell of its own: these globals are its alone.
  name=$1 log=${LOG_DIR:-var/log}/$1.log child='' stopping=0 restarts=0 delay=1
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
    echo "--- scripts/$(basename "$0"): restarting $name at $(now) after exit $code ---" >>"$log"
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
