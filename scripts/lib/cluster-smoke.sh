# `scripts/cluster.sh --smoke`: one referral through the running cluster;
# source it from scripts/cluster.sh once everything answers, then call
# `smoke`, which returns 0 when the referral went everywhere it should.
#
# The referral (examples/referral.json, marked as a re-referral so that the
# patient's open referral from an earlier run does not refuse it) goes in at
# intake's second instance; it must reach the pathway stream on all three
# nodes and vetting's worklist; a clinician claims it at vetting's second
# instance and records an outcome at the first; the decision, the
# notification and every step before them must then reach analytics' table
# of facts.

SMOKE_WAIT=${SMOKE_WAIT:-60} # seconds each step may take

say() { echo "smoke: $*"; }

# cli [VAR=value...] ARGS...: the CLI, on the first instances unless told.
cli() {
  # shellcheck disable=SC1091
  (source "$DIR/cli.env" && env "${@}")
}

# The pathway stream's last sequence on node NAME (0 when it has none).
last_seq() {
  curl -fsS --max-time 2 "http://127.0.0.1:${MONITOR[$1]}/jsz?accounts=true&streams=true" 2>/dev/null |
    python3 -c 'import json, sys
seqs = [s["state"]["last_seq"] for a in json.load(sys.stdin).get("account_details", [])
        for s in a.get("stream_detail", []) if s["name"] == "PATHWAY"]
print(seqs[0] if seqs else 0)' 2>/dev/null || echo 0
}

# until_true WHAT COMMAND...: polls COMMAND every half second until it
# succeeds (0) or SMOKE_WAIT seconds pass (1, saying what did not happen).
until_true() {
  local what=$1 tries
  shift
  for ((tries = 0; tries < SMOKE_WAIT * 2; tries++)); do
    if "$@"; then return 0; fi
    sleep 0.5
  done
  say "FAILED: $what within $SMOKE_WAIT s"
  return 1
}

# Whether the three nodes hold the same stream, past sequence $before.
replicated() {
  local a b c
  a=$(last_seq nats-1) b=$(last_seq nats-2) c=$(last_seq nats-3)
  stream_seqs="$a $b $c"
  ((a > before && a == b && b == c))
}

# Analytics' fact FIELD for the referral, empty until there is one.
fact() {
  psql_in pathway_analytics "SELECT $1 FROM referral_facts WHERE referral_id = '$referral'"
}
fact_set() { [ -n "$(fact "$1" 2>/dev/null)" ]; }

# vetting INSTANCE METHOD PATH [FILE]: the HTTP status of a call to vetting.
vetting() {
  curl -sS --max-time 5 -o "$run_dir/vetting.json" -w '%{http_code}' -X "$2" \
    -H "Authorization: Bearer $clinician" ${4:+-H 'Content-Type: application/json' --data-binary "@$4"} \
    "http://127.0.0.1:${PORT[vetting-$1]}$3"
}
on_worklist() { [ "$(vetting 1 GET "/v1/referrals/$referral")" = 200 ]; }

smoke() {
  local before answer status stream_seqs referral clinician
  cli "$BIN/pathway" board enable highland >/dev/null || {
    say "FAILED: pathway board enable highland"
    return 1
  }
  before=$(last_seq nats-1)

  # examples/referral.json as a deliberate re-referral, which intake takes
  # even while an earlier one for the same patient (from a run before) is open.
  python3 -c 'import json, sys
referral = json.load(open("examples/referral.json"))
referral["re_referral"] = True
json.dump(referral, sys.stdout)' >"$run_dir/referral.json"
  answer=$(cli PATHWAY_INTAKE_URL="http://127.0.0.1:${PORT[intake-2]}" "$BIN/pathway" refer "$run_dir/referral.json") || {
    say "FAILED: pathway refer examples/referral.json (as a re-referral)"
    return 1
  }
  referral=$(sed -n 's/^referral \([^ ]*\) received.*/\1/p' <<<"$answer")
  say "intake-2 accepted: ${answer%%$'\n'*}"

  until_true "the stream to reach the same last sequence on the three nodes" replicated || return 1
  say "the pathway stream is at sequence ${stream_seqs%% *} on nats-1, nats-2 and nats-3 (was $before)"

  clinician=$(cli "$BIN/pathway" token --role clinician --board highland --name "Dr Smoke Test") || return 1
  until_true "the referral to reach vetting's worklist" on_worklist || return 1
  status=$(vetting 2 POST "/v1/referrals/$referral/claim")
  if [ "$status" != 200 ]; then
    say "FAILED: claim at vetting-2 answered $status: $(cat "$run_dir/vetting.json")"
    return 1
  fi
  status=$(vetting 1 POST "/v1/referrals/$referral/outcome" examples/outcome.json)
  if [ "$status" != 201 ]; then
    say "FAILED: outcome at vetting-1 answered $status: $(cat "$run_dir/vetting.json")"
    return 1
  fi
  say "claimed at vetting-2, outcome recorded at vetting-1 (accept, routine, video)"

  until_true "analytics to see the decision and the notification" fact_set notified_at || return 1
  say "analytics has it: $(fact "route || ', claimed ' || claimed_at || ', decided ' || decided_at || ' (' || outcome || '), notified ' || notified_at")"
  say "intake-1 says its status is $(cli "$BIN/pathway" status "$referral" | sed -n 's/^status *//p')"
  say "OK"
}
