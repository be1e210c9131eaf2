#!/usr/bin/env bash
# Issue 3, as a new user would try it: a data fetcher and the CLI as separate processes on
# one SQLite file; duplicates, a malformed event, and kill -9 in the middle of a batch.
source "$(dirname "$0")/lib.sh"
export DATABASE_URL="sqlite:$E2E_TMP/e2e.db" EVENT_BUS=embedded DATA_PROVIDER=sample

dripr migrate >/dev/null || fail "migrate"
start_fetcher fetcher1
fetcher=$FETCHER_PID

# 1. A campaign with a property and a no-address one reach READY_TO_CREATE_EMAIL quickly.
dripr campaign create --id home-1 --zip 02139 --address "1 Main St, Cambridge, MA 02139" \
  --lat 42.3651 --lng -71.1040 --current-value 850000 >/dev/null || fail "create home-1"
dripr campaign create --id news-1 --zip 30303 >/dev/null || fail "create news-1"
for id in home-1 news-1; do dripr campaign start "$id" >/dev/null || fail "start $id"; done
poll 10 "home-1 and news-1 ready" eval 'status_is home-1 READY_TO_CREATE_EMAIL && status_is news-1 READY_TO_CREATE_EMAIL'

show=$(dripr campaign show home-1 --json)
python3 - "$show" <<'PY' || fail "home-1 contents"
import json, sys
from datetime import datetime
d = json.loads(sys.argv[1])
assert len(d["active_listings"]) >= 10, len(d["active_listings"])
assert len(d["recent_sales"]) >= 10, len(d["recent_sales"])
assert [r["rank"] for r in d["active_listings"]] == list(range(1, len(d["active_listings"]) + 1))
scores = [r["score"] for r in d["recent_sales"]]
assert scores == sorted(scores, reverse=True), scores
assert d["local_market_data"]["current"]["average_price"] > 0
assert [e["event"]["payload"]["to_status"] for e in d["events"]] == ["WAITING_FOR_DATA", "READY_TO_CREATE_EMAIL"]
t = [datetime.fromisoformat(e["event"]["payload"]["timestamp"].replace("Z", "+00:00")) for e in d["events"]]
took = (t[1] - t[0]).total_seconds()
assert took < 1.0, f"start -> ready took {took:.3f} s"
print(f"home-1 ready in {took*1000:.0f} ms")
PY

# 2. Starting again changes nothing.
out=$(dripr campaign start home-1) || fail "second start exited non-zero"
[[ $out == *unchanged* ]] || fail "second start did not say it changed nothing: $out"
[[ $(dripr campaign show home-1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))') -eq 2 ]] \
  || fail "second start wrote an event"

# 3. The same event delivered again is acknowledged without effect.
before=$(dripr campaign show home-1 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([r["source_id"] for r in d["active_listings"]], d["updated_at"])')
event=$(dripr campaign show home-1 --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["events"][0]["event"]))')
dripr publish "$event" >/dev/null || fail "republish"
poll 10 "duplicate acknowledged" grep -q 'campaign=home-1 .*outcome=done reason="stale' "$E2E_TMP/fetcher1.log"
after=$(dripr campaign show home-1 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print([r["source_id"] for r in d["active_listings"]], d["updated_at"])')
[[ $before == "$after" ]] || fail "duplicate event changed the campaign"

# 4. A malformed event ends in each DLQ with its reason; the fetcher keeps running.
dripr publish --raw '{"event_type":"STATUS_CHANGE","payload":{"campaign_id":"bad-1","zip_code":"12","to_status":"WAITING_FOR_DATA","timestamp":"2026-11-29T10:00:00"}}' >/dev/null \
  || fail "publish malformed"
dlq_has_reason() { dripr dlq list active_listings | grep -q 'reason: malformed event: zip_code'; }
poll 10 "malformed event in the active_listings DLQ" dlq_has_reason
kill -0 "$fetcher" 2>/dev/null || fail "fetcher died on a malformed event"

# 5. kill -9 in the middle of a batch, restart: everything completes, nothing duplicated.
kill -9 "$fetcher"
N=60
i=0
for zip in $(real_zips $N); do
  i=$((i + 1))
  dripr campaign create --id "bulk-$i" --zip "$zip" >/dev/null || fail "create bulk-$i"
done
for i in $(seq 1 $N); do dripr campaign start "bulk-$i" >/dev/null || fail "start bulk-$i"; done
# A slow provider and few workers, so the kill lands while work is in flight.
start_fetcher fetcher2 DRIPR_SAMPLE_LATENCY_MS=300 DRIPR_MAX_IN_FLIGHT=2
fetcher=$FETCHER_PID
some_ready() { [[ $(count_in_status READY_TO_CREATE_EMAIL) -ge 5 ]]; }
poll 30 "some bulk campaigns ready" some_ready
kill -9 "$fetcher"
ready_at_kill=$(count_in_status READY_TO_CREATE_EMAIL)
echo "killed the fetcher with $ready_at_kill of $((N + 2)) campaigns ready"
[[ $ready_at_kill -lt $((N + 2)) ]] || fail "the kill came too late to test anything"
start_fetcher fetcher3 DRIPR_VISIBILITY_TIMEOUT_SECONDS=5
fetcher=$FETCHER_PID
poll 90 "all campaigns ready after restart" all_in_status $((N + 2)) READY_TO_CREATE_EMAIL
python3 - "$DATABASE_URL" <<'PY' || fail "duplicates after kill -9"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1][len("sqlite:"):])
q = lambda sql: db.execute(sql).fetchall()
dup_rows = q("select campaign_id, rank, count(*) from active_listings group by 1, 2 having count(*) > 1")
dup_rows += q("select campaign_id, rank, count(*) from recent_sales group by 1, 2 having count(*) > 1")
assert not dup_rows, dup_rows
ready = q("select campaign_id, count(*) from outbox where body like '%\"to_status\":\"READY_TO_CREATE_EMAIL\"%' group by 1")
assert len(ready) == 62 and all(n == 1 for _, n in ready), ready
bad = q("select campaign_id, count(*) from outbox group by 1 having count(*) != 2")
assert not bad, bad
print("no duplicates:", len(ready), "campaigns with exactly one READY_TO_CREATE_EMAIL event")
PY
kill -TERM "$fetcher"
poll 30 "fetcher exits on SIGTERM" eval "! kill -0 $fetcher 2>/dev/null"
wait "$fetcher" || fail "fetcher exit code $? on SIGTERM"
grep -q "data-fetcher stopped" "$E2E_TMP/fetcher3.log" || fail "no clean shutdown line"
echo "PASS"
