#!/usr/bin/env bash
# Issue 11 (ops): /readyz of a data fetcher on PostgreSQL turns 503 naming the database
# within a few seconds of PostgreSQL stopping, and 200 again after it is back; /healthz
# stays 200 throughout (the loops are alive, only waiting), so an orchestrator takes the
# instance out of rotation instead of restarting it.
source "$(dirname "$0")/lib.sh"
start_private_postgres
export DATABASE_URL="$DRIPR_TEST_PG_URL" EVENT_BUS=embedded EMBEDDED_BUS_PATH="$E2E_TMP/bus.db"
export DATA_PROVIDER=sample DRIPR_DB_RETRY_SECONDS=15

dripr migrate >/dev/null || fail "migrate"
dripr campaign create --id d-1 --zip 02139 >/dev/null || fail "create d-1"
start_fetcher fetcher
poll 20 "ops URL logged" grep -q 'ops server listening on' "$E2E_TMP/fetcher.log"
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$E2E_TMP/fetcher.log" | head -1)
code() { curl -s -m 5 -o "$E2E_TMP/$1.json" -w '%{http_code}' "$url/$1"; }
poll 20 "readyz 200" eval '[[ $(code readyz) == 200 ]]'
# The gauges sampled from PostgreSQL (at start, then every 10 s).
sampled() { curl -s "$url/metrics" | grep -qx 'dripr_campaigns{status="DORMANT"} 1' \
  && curl -s "$url/metrics" | grep -qx 'dripr_outbox_backlog 0'; }
poll 15 "campaign and outbox gauges sampled from PostgreSQL" sampled

pg_server_stop
t0=$SECONDS
poll 15 "readyz 503 after PostgreSQL stopped" eval '[[ $(code readyz) == 503 ]]'
down_after=$((SECONDS - t0))
python3 - "$E2E_TMP/readyz.json" <<'PY' || fail "readyz body: $(cat "$E2E_TMP/readyz.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "not ready", d
assert list(d["failing"]) == ["database"], d   # the bus (SQLite) and consumers are fine
assert d["checks"]["bus"] == "ok" and d["checks"]["consumers"] == "ok", d
print("readyz while PostgreSQL is down:", json.dumps(d["failing"]))
PY
[[ $(code healthz) == 200 ]] || fail "healthz not 200 during the outage: $(cat "$E2E_TMP/healthz.json")"

pg_server_start
t1=$SECONDS
poll 30 "readyz 200 after PostgreSQL is back" eval '[[ $(code readyz) == 200 ]]'
echo "readyz: 503 within ${down_after} s of the stop, 200 within $((SECONDS - t1)) s of the restart"
[[ $(code healthz) == 200 ]] || fail "healthz after the outage"
kill -0 "$FETCHER_PID" 2>/dev/null || fail "fetcher died"
echo "OK"
