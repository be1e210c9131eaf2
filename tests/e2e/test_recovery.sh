#!/usr/bin/env bash
# Issue 9, "A recovery path that works as documented": follows docs/operations.md
# "Recovering an ERROR campaign" step by step on the embedded bus. A fetcher whose sample
# provider has too few listings and sales in 021xx puts a campaign in ERROR; the operator
# fixes the cause (restarts the fetcher without the fault), retries, and the campaign
# completes; the failed cycle's DLQ copies are reported as stale and then discarded.
# Also: `dripr queues` shows the outbox backlog and whether a fetcher is alive.
source "$(dirname "$0")/lib.sh"
export DATABASE_URL="sqlite:$E2E_TMP/e2e.db" EVENT_BUS=embedded DATA_PROVIDER=sample

dripr migrate >/dev/null || fail "migrate"

# No fetcher yet: the event waits in the outbox, and `queues` says nobody consumes.
dripr campaign create --id rec-1 --zip 02139 --address "1 Main St, Cambridge, MA 02139" \
  --lat 42.3651 --lng -71.1040 --current-value 850000 >/dev/null || fail "create rec-1"
dripr campaign start rec-1 >/dev/null || fail "start rec-1"
q=$(dripr queues --json) || fail "queues --json"
[[ $(json_get "$q" 'd["outbox"]["unpublished"]') == 1 ]] || fail "outbox backlog not shown: $q"
[[ $(json_get "$q" 'd["fetchers"]["alive"]') == 0 ]] || fail "a fetcher shown alive: $q"
out=$(dripr queues) || fail "queues"
[[ $out == *"outbox: 1 unpublished event(s), oldest"* ]] || fail "queues text: $out"
[[ $out == *"fetchers: none running"* ]] || fail "queues text: $out"

# The fault: too few listings and sales in 021xx.
start_fetcher faulty DRIPR_SAMPLE_SPARSE_ZIPS=021
faulty=$FETCHER_PID
poll 15 "rec-1 in ERROR" status_is rec-1 ERROR
alive() { [[ $(json_get "$(dripr queues --json)" 'd["fetchers"]["alive"]') == 1 ]]; }
poll 15 "the fetcher shown alive" alive

# Runbook step 1: see why.
dripr campaign show rec-1 | grep -q 'within' || fail "show does not give the error"
# Listings or sales, whichever handler ran first, failed the campaign; the other's event was
# then stale. The runbook's commands name the queue whose DLQ holds the failure.
part=
dlq_filled() {
  local q
  for q in active_listings recent_sales; do
    if dripr dlq list "$q" | grep -q 'reason: .*within'; then part=$q; return 0; fi
  done
  return 1
}
poll 10 "the failure in the active_listings or recent_sales DLQ" dlq_filled

# Runbook step 2: redriving now cannot help, and says so; nothing moves.
out=$(dripr dlq redrive "$part") || fail "redrive while ERROR"
[[ $out == *"skipped (left in"*"campaign is ERROR"*"dripr campaign retry rec-1"* ]] || fail "redrive while ERROR: $out"
[[ $out == *"moved 0 message(s)"* ]] || fail "redrive moved something: $out"

# Runbook step 3: fix the cause (here: restart the fetcher without the fault).
kill -TERM "$faulty"
wait "$faulty" || true
gone() { [[ $(json_get "$(dripr queues --json)" 'd["fetchers"]["alive"]') == 0 ]]; }
poll 5 "the stopped fetcher no longer alive" gone
start_fetcher fixed

# Runbook step 4: retry.
out=$(dripr campaign retry rec-1) || fail "retry exited non-zero"
[[ $out == "campaign rec-1: ERROR -> WAITING_FOR_DATA (data cycle 2), STATUS_CHANGE event queued" ]] \
  || fail "retry output: $out"
poll 15 "rec-1 READY_TO_CREATE_EMAIL after retry" status_is rec-1 READY_TO_CREATE_EMAIL
show=$(dripr campaign show rec-1 --json)
[[ $(json_get "$show" 'd["error_text"]') == None ]] || fail "error_text kept: $show"
[[ $(json_get "$show" '[e["event"]["payload"]["to_status"] for e in d["events"]]') == \
   "['WAITING_FOR_DATA', 'ERROR', 'WAITING_FOR_DATA', 'READY_TO_CREATE_EMAIL']" ]] || fail "events: $show"

# A second retry changes nothing and says why (exit 0, like start).
out=$(dripr campaign retry rec-1) || fail "second retry exited non-zero"
[[ $out == "campaign rec-1 unchanged: campaign rec-1 is READY_TO_CREATE_EMAIL, not ERROR" ]] || fail "second retry: $out"
j=$(dripr campaign retry rec-1 --json) || fail "retry --json"
[[ $(json_get "$j" 'd["changed"]') == False ]] || fail "retry --json: $j"

# Runbook step 5: the failed cycle's DLQ copies are stale; redrive says so, then discards them.
out=$(dripr dlq redrive "$part") || fail "redrive after retry"
[[ $out == *"skipped (left in"*"campaign is READY_TO_CREATE_EMAIL (event is for data cycle 1, campaign is in 2)"* ]] \
  || fail "redrive after retry: $out"
out=$(dripr dlq redrive "$part" --discard-stale --json) || fail "redrive --discard-stale"
[[ $(json_get "$out" '{m["action"] for m in d["messages"]}') == "{'discarded'}" ]] || fail "discard: $out"
[[ $(dripr dlq list "$part") == *"0 message(s) in"* ]] || fail "DLQ not empty after discard"

# Unknown campaign: exit 1; bad usage: exit 2.
rc=0; dripr campaign retry nope >/dev/null 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "retry of an unknown campaign exited $rc"
rc=0; dripr campaign retry >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "retry without an id exited $rc"

# With the fetcher running and everything published, queues says so.
drained() { [[ $(json_get "$(dripr queues --json)" 'd["outbox"]["unpublished"]') == 0 ]]; }
poll 10 "outbox drained" drained
out=$(dripr queues) || fail "queues"
[[ $out == *"outbox: every event published"* && $out == *"fetchers: 1 alive"* ]] || fail "queues: $out"
echo "recovery runbook: ok"
