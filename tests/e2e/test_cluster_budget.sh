#!/usr/bin/env bash
# Issue 13, "the provider budget is the cluster's": three data fetchers on PostgreSQL + moto
# against the fake RentCast server, 300 campaigns over 15 zip codes. The fake's request log
# shows exactly one /markets call per zip (the cluster-wide single flight), no 1-second
# window with more requests than RENTCAST_MAX_RPS across the three (the shared budget), and
# the database one local_market_data row per (zip, month). Prints the figures.
source "$(dirname "$0")/lib.sh"
N=${E2E_CAMPAIGNS:-300}
ZIPS=15
MAX_RPS=${E2E_MAX_RPS:-25}
start_fake_rentcast
KEY=$FAKE_KEY

# 15 real zip codes the fake has market data for (1 in 40 has none: a 404 is not shared
# between campaigns, docs/decisions/cluster.md), then an empty request log.
real_zips 60 >"$E2E_TMP/zips.all"
: >"$E2E_TMP/zips"
while read -r z && (($(wc -l <"$E2E_TMP/zips") < ZIPS)); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $KEY" "$FAKE_URL/v1/markets?zipCode=$z&dataType=Sale&historyRange=6")
  if [[ $code == 200 ]]; then echo "$z" >>"$E2E_TMP/zips"; fi
done <"$E2E_TMP/zips.all"
[[ $(wc -l <"$E2E_TMP/zips") -eq $ZIPS ]] || fail "not $ZIPS zips with market data"
curl -fsS -X DELETE "$FAKE_URL/__admin/requests" >/dev/null || fail "clearing the request log"

start_private_postgres
psql "$DRIPR_TEST_PG_URL" -Xqc "CREATE DATABASE dripr_e2e" >/dev/null || fail "create database"
DB_URL="${DRIPR_TEST_PG_URL%/*}/dripr_e2e"
sql() { psql "$DB_URL" -XAtq -F $'\t' -c "$1"; }
start_private_moto
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDE2ETESTKEY AWS_SECRET_ACCESS_KEY="e2e-secret-$RANDOM$RANDOM" \
  AWS_EC2_METADATA_DISABLED=true DRIPR_RECEIVE_WAIT_SECONDS=2 DATABASE_URL=$DB_URL
# The commands before the fetchers use the default embedded bus: its file goes here, not
# into the source tree (`dripr migrate` creates it).
export EMBEDDED_BUS_PATH="$E2E_TMP/cli-bus.db"
dripr migrate >/dev/null || fail "migrate"
dripr infra up --env dev >"$E2E_TMP/env.lines" 2>"$E2E_TMP/infra.log" || fail "infra up"
set -a
source "$E2E_TMP/env.lines"
set +a

# 20 campaigns per zip, created and started in batches by `campaign import --start`.
python3 - "$N" "${DRIPR_SOURCE_DIR}/data/zip_codes.csv" "$E2E_TMP/zips" >"$E2E_TMP/campaigns.jsonl" <<'PY'
import json, sys
n, path, zips_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
centroid = {l.split(",")[0]: l.split(",")[1:3] for l in open(path).read().splitlines()[1:]}
zips = open(zips_path).read().split()
for i in range(n):
    z = zips[i % len(zips)]
    lat, lng = (float(v) for v in centroid[z])
    print(json.dumps({"id": f"cb-{i:03d}", "zip": z, "address": f"{i} Test Rd",
                      "lat": round(lat + 0.001 * (i % 7), 5), "lng": round(lng - 0.001 * (i % 5), 5)}))
PY
dripr campaign import "$E2E_TMP/campaigns.jsonl" --start >/dev/null || fail "importing the campaigns"

# At least one listings and one sales request per campaign (more where the radius widens),
# at most MAX_RPS for the three fetchers together.
fetcher_env=(EVENT_BUS=aws DATA_PROVIDER=rentcast RENTCAST_API_KEY="$KEY" RENTCAST_BASE_URL="$FAKE_URL/v1"
  RENTCAST_MAX_RPS="$MAX_RPS" DRIPR_MIN_RESULTS=1 DRIPR_MAX_IN_FLIGHT=8)
started=$SECONDS
fetchers=()
for i in 1 2 3; do
  start_fetcher "fetcher-$i" "${fetcher_env[@]}"
  fetchers+=("$FETCHER_PID")
done
ready() { (($(sql "SELECT count(*) FROM campaigns WHERE campaign_status = 'READY_TO_CREATE_EMAIL'") == N)); }
poll 120 "all $N campaigns ready" ready
wall=$((SECONDS - started))
for pid in "${fetchers[@]}"; do kill -TERM "$pid"; done
for pid in "${fetchers[@]}"; do wait "$pid" || fail "fetcher exit code on SIGTERM"; done

# ---- what the database and the fake's request log show -----------------------------------
rows=$(sql "SELECT count(*) FROM local_market_data")
dups=$(sql "SELECT count(*) FROM (SELECT 1 FROM local_market_data GROUP BY zip_code, month HAVING count(*) > 1) d")
[[ $dups -eq 0 ]] || fail "$dups (zip, month) pairs have more than one local_market_data row"
[[ $rows -eq $ZIPS ]] || fail "$rows local_market_data rows for $ZIPS zips"
curl -fsS "$FAKE_URL/__admin/requests" >"$E2E_TMP/requests.json" || fail "reading the request log"
fetched=$(cat "$E2E_TMP"/fetcher-*.log | grep -c 'reason="market data for [0-9]* fetched' || true)
python3 - "$E2E_TMP/requests.json" "$MAX_RPS" "$ZIPS" "$N" "$wall" "$fetched" <<'PY' || fail "request log"
import json, sys, urllib.parse
log = json.load(open(sys.argv[1]))
max_rps, zips, n, wall, fetched = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
markets = {}
for r in log:
    if r["path"].endswith("/markets"):
        z = urllib.parse.parse_qs(r["query"]).get("zipCode", ["?"])[0]
        markets[z] = markets.get(z, 0) + 1
times = sorted(r["time_ms"] for r in log)
busiest, j = 0, 0
for i, t in enumerate(times):  # every window [t, t + 1 s) that starts at a request
    while j < len(times) and times[j] < t + 1000:
        j += 1
    busiest = max(busiest, j - i)
span = (times[-1] - times[0]) / 1000 if len(times) > 1 else 0
print(f"campaigns: {n} over {zips} zips, all READY_TO_CREATE_EMAIL in {wall} s (3 fetchers)")
print(f"requests: {len(log)} in {span:.1f} s = {len(log) / max(span, 0.001):.1f}/s average; "
      f"busiest 1-second window: {busiest} (RENTCAST_MAX_RPS={max_rps:g} for the cluster)")
print(f"market calls: {sum(markets.values())} for {len(markets)} zips; "
      f"'fetched' in the fetchers' logs: {fetched}, the rest reused")
assert len(markets) == zips and all(c == 1 for c in markets.values()), f"market calls per zip: {markets}"
assert fetched == zips, f"{fetched} market fetches logged"
assert busiest <= max_rps, f"a 1-second window had {busiest} requests"
assert len(log) >= 2 * n + zips, f"only {len(log)} requests"
PY
grep -q -- "$KEY" "$E2E_TMP"/fetcher-*.log && fail "the API key appears in a fetcher's log"
[[ $(sql "SELECT count(*) FROM provider_budget") -eq 1 ]] || fail "one shared budget row"
sql "SELECT name FROM provider_budget" | grep -q -- "$KEY" && fail "the API key is stored in provider_budget"
echo "PASS"
