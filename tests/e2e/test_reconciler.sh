#!/usr/bin/env bash
# Issue 11 "Reconciler": the real binary heals what was lost outside our outbox, gives up on
# campaigns that never finish, never doubles a republish across two fetchers (one of them
# killed -9 while it holds the lease), and restarts errored campaigns up to the limit.
# Short thresholds through the environment; about 40 s.
source "$(dirname "$0")/lib.sh"
export DATABASE_URL="sqlite:$E2E_TMP/e2e.db" EVENT_BUS=embedded DATA_PROVIDER=sample
DB="$E2E_TMP/e2e.db"
dripr migrate >/dev/null || fail "migrate"

field() { dripr campaign show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }
create() { dripr campaign create --id "$1" --zip 02139 --address "1 Main St" --lat 42.3651 --lng -71.104 \
  --current-value 850000 >/dev/null || fail "create $1"; }
stop_fetcher() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null || true; }

# 0. Settings are validated with the others: a bad value is exit 2 naming the variable.
set +e
out=$(DRIPR_STUCK_AFTER_SECONDS=soon dripr reconcile 2>&1); rc=$?
set -e
[[ $rc -eq 2 && $out == *DRIPR_STUCK_AFTER_SECONDS* ]] || fail "bad DRIPR_STUCK_AFTER_SECONDS: rc=$rc $out"
[[ $(dripr reconcile) == "reconcile: nothing to do" ]] || fail "empty database: not nothing to do"

# 1. An event marked published but never delivered (lost by SNS, a DLQ redrive, a producer
#    that died after its commit) completes without anyone acting.
create lost-1
dripr campaign start lost-1 >/dev/null || fail "start lost-1"
sqlite3 "$DB" "UPDATE outbox SET published_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE campaign_id = 'lost-1'"
dry_lists_lost() {
  DRIPR_STUCK_AFTER_SECONDS=1 dripr reconcile --dry-run --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [(c["campaign_id"], c["action"], c["applied"]) for c in d["campaigns"]] == [("lost-1", "republish", False)]
assert d["dry_run"] and d["counts"]["republish"] == 0' 2>/dev/null
}
poll 10 "dry run lists lost-1" dry_lists_lost
[[ $(dripr campaign show lost-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))') -eq 1 ]] \
  || fail "the dry run wrote an event"
start_fetcher f1 DRIPR_STUCK_AFTER_SECONDS=2 DRIPR_RECONCILE_INTERVAL_SECONDS=1
f1=$FETCHER_PID
poll 20 "lost-1 healed" status_is lost-1 READY_TO_CREATE_EMAIL
grep -q 'reconciler: campaign=lost-1 action=republish' "$E2E_TMP/f1.log" || fail "no republish logged for lost-1"
[[ $(field lost-1 republish_count) -eq 1 ]] || fail "lost-1 republish_count != 1"
dripr campaign show lost-1 --json | python3 -c '
import json, sys
ev = [e["event"]["payload"] for e in json.load(sys.stdin)["events"]]
assert [e["to_status"] for e in ev] == ["WAITING_FOR_DATA", "WAITING_FOR_DATA", "READY_TO_CREATE_EMAIL"], ev
assert ev[0]["event_id"] == ev[1]["event_id"], "a republish is the same event"
' || fail "lost-1 events"
stop_fetcher "$f1"

# 2. Parts that never finish (the provider is unreachable; retries are slow) end in ERROR
#    after DRIPR_MAX_REPUBLISH republishes. Two fetchers; the one holding the reconciler lease
#    is killed -9 after the first republishes and the other takes over.
stuck_env=(DATA_PROVIDER=rentcast RENTCAST_API_KEY=e2e-not-a-key RENTCAST_BASE_URL=http://127.0.0.1:9
  RENTCAST_MAX_ATTEMPTS=1 DRIPR_MAX_ATTEMPTS=50 DRIPR_RETRY_BASE_MS=600000
  DRIPR_STUCK_AFTER_SECONDS=2 DRIPR_RECONCILE_INTERVAL_SECONDS=1 DRIPR_MAX_REPUBLISH=3
  DRIPR_RESTART_ERRORED_AFTER_SECONDS=0)
N=5
for i in $(seq 1 $N); do create "stuck-$i"; dripr campaign start "stuck-$i" >/dev/null || fail "start stuck-$i"; done
start_fetcher f2 "${stuck_env[@]}"
f2=$FETCHER_PID
start_fetcher f3 "${stuck_env[@]}"
f3=$FETCHER_PID
republished() { cat "$E2E_TMP"/f2.log "$E2E_TMP"/f3.log 2>/dev/null | grep -c 'action=republish' || true; }
poll 20 "first republishes" eval '(( $(republished) >= N ))'
if grep -q 'now runs the reconciler' "$E2E_TMP/f2.log"; then
  holder=$f2 survivor=$f3 survivor_log=f3.log
else
  holder=$f3 survivor=$f2 survivor_log=f2.log
fi
kill -9 "$holder"
poll 30 "all stuck campaigns in ERROR" all_in_status $N ERROR
grep -q 'now runs the reconciler' "$E2E_TMP/$survivor_log" || fail "the survivor never took the lease over"
for i in $(seq 1 $N); do
  id=stuck-$i
  dripr campaign show $id --json | python3 -c '
import json, sys
from datetime import datetime
d = json.load(sys.stdin)
assert d["republish_count"] == 3, d["republish_count"]
# the error names exactly the parts still waiting (market data is reused from the zip of lost-1)
waiting = [p for p, k in [("local_market_data", "local_market_data_status"),
                          ("active_listings", "active_listing_status"),
                          ("recent_sales", "recent_sale_status")] if d[k] == "WAITING_FOR_DATA"]
assert waiting and d["error_text"].startswith(
    "stuck in WAITING_FOR_DATA: " + ", ".join(waiting) + " did not finish in data cycle 1"), d["error_text"]
ev = d["events"]
assert [e["event"]["payload"]["to_status"] for e in ev] == ["WAITING_FOR_DATA"] * 4 + ["ERROR"], ev
t = [datetime.fromisoformat(e["created_at"].replace("Z", "+00:00")) for e in ev[:4]]
gaps = [(b - a).total_seconds() for a, b in zip(t, t[1:])]
# the stuck clock restarts at every republish: never two in one pass, never closer than 2 s
assert min(gaps) >= 1.99, gaps
' || fail "$id: outbox events"
done
stop_fetcher "$survivor"

# 3. Errored campaigns are restarted from the command line, counted, and reported. They are
# due 1 s after they went to ERROR, which may not have passed yet (the fetcher stops at once).
restarts_due() {
  DRIPR_RESTART_ERRORED_AFTER_SECONDS=1 DRIPR_MAX_RESTARTS=2 dripr reconcile --dry-run --json |
    python3 -c 'import json,sys; sys.exit(sum(c["action"] == "restart" for c in json.load(sys.stdin)["campaigns"]) != '"$N"')'
}
poll 10 "errored campaigns due for a restart" restarts_due
out=$(DRIPR_RESTART_ERRORED_AFTER_SECONDS=1 DRIPR_MAX_RESTARTS=2 dripr reconcile --json)
json_get "$out" 'd["counts"]["restart"] == 5 and all(c["after"]["restart_count"] == 1 and c["after"]["campaign_status"] == "DORMANT" for c in d["campaigns"])' \
  | grep -q True || fail "reconcile --json restarts: $out"
[[ $(DRIPR_RESTART_ERRORED_AFTER_SECONDS=1 dripr reconcile) == "reconcile: nothing to do" ]] || fail "second pass did something"

# 4. A campaign that keeps failing is restarted by the fetcher until DRIPR_MAX_RESTARTS, then
#    left in ERROR for a person.
start_fetcher f4 DATA_PROVIDER=rentcast RENTCAST_API_KEY=e2e-not-a-key RENTCAST_BASE_URL=http://127.0.0.1:9 \
  RENTCAST_MAX_ATTEMPTS=1 DRIPR_MAX_ATTEMPTS=1 DRIPR_RECONCILE_INTERVAL_SECONDS=1 \
  DRIPR_RESTART_ERRORED_AFTER_SECONDS=1 DRIPR_MAX_RESTARTS=2
f4=$FETCHER_PID
create flaky-1
for round in 1 2 3; do
  dripr campaign start flaky-1 >/dev/null || fail "start flaky-1 ($round)"
  poll 20 "flaky-1 ERROR ($round)" status_is flaky-1 ERROR
  if ((round < 3)); then
    poll 20 "flaky-1 restarted ($round)" status_is flaky-1 DORMANT
    [[ $(field flaky-1 restart_count) -eq $round ]] || fail "flaky-1 restart_count != $round"
  fi
done
# Passes go on (flaky-2 fails and is restarted after flaky-1 reached the limit); flaky-1 stays.
create flaky-2
dripr campaign start flaky-2 >/dev/null || fail "start flaky-2"
poll 20 "flaky-2 restarted" eval '[[ $(field flaky-2 restart_count) -eq 1 ]]'
status_is flaky-1 ERROR && [[ $(field flaky-1 restart_count) -eq 2 ]] || fail "flaky-1 not left in ERROR at the limit"
[[ $(grep -c 'campaign=flaky-1 action=restart' "$E2E_TMP/f4.log") -eq 2 ]] || fail "flaky-1: not exactly 2 restarts"
dry=$(DRIPR_RESTART_ERRORED_AFTER_SECONDS=1 DRIPR_MAX_RESTARTS=2 dripr reconcile --dry-run --json)
json_get "$dry" 'not any(c["campaign_id"] == "flaky-1" for c in d["campaigns"])' | grep -q True \
  || fail "flaky-1 would be restarted past the limit: $dry"
stop_fetcher "$f4"
echo "PASS test_reconciler"
