# Sourced by test_postgres_multi_fetcher.sh and test_mysql_multi_fetcher.sh (issues 5 and 12),
# which set E2E_DB=postgres|mysql: a network database + SNS/SQS on moto_server + three
# `dripr data-fetcher` processes competing for the queues. Campaigns started from the CLI (300
# by default) all reach READY_TO_CREATE_EMAIL while the database is stopped for a few seconds
# mid-run; each ends with exactly the rows a single-process run (SQLite + embedded bus)
# computes for it, its two STATUS_CHANGE events written once, and no part's effect applied
# twice.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N=${E2E_CAMPAIGNS:-300}

# The backend: a server of our own (the outage below must not hit other tests), `sql QUERY`
# printing tab-separated rows (NULL as \N), and the server's stop/start.
case ${E2E_DB:?E2E_DB must be postgres or mysql} in
  postgres)
    DB_NAME=PostgreSQL
    start_private_postgres
    psql "$DRIPR_TEST_PG_URL" -Xqc "CREATE DATABASE dripr_e2e" >/dev/null || fail "create database"
    DB_URL="${DRIPR_TEST_PG_URL%/*}/dripr_e2e"
    sql() { psql "$DB_URL" -XAtq -F $'\t' -P null='\N' -c "$1"; }
    db_stop() { pg_server_stop; }
    db_start() { pg_server_start; }
    ;;
  mysql)
    DB_NAME=MySQL
    start_private_mariadb
    DB_URL="${DRIPR_TEST_MYSQL_URL%/*}/dripr_e2e"
    # Over the server's socket as root: no password on a command line.
    sql() {
      mariadb --no-defaults -uroot --socket="$DRIPR_TEST_MYSQL_DATA/mysqld.sock" -D dripr_e2e \
        -N -B -e "$1" | sed 's/\bNULL\b/\\N/g'
    }
    mariadb --no-defaults -uroot --socket="$DRIPR_TEST_MYSQL_DATA/mysqld.sock" \
      -e "CREATE DATABASE dripr_e2e" || fail "create database"
    db_stop() { mariadb_server_stop; }
    db_start() { mariadb_server_start; }
    ;;
  *) fail "E2E_DB must be postgres or mysql, got $E2E_DB" ;;
esac
start_private_moto
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDE2ETESTKEY AWS_SECRET_ACCESS_KEY="e2e-secret-$RANDOM$RANDOM" \
  AWS_EC2_METADATA_DISABLED=true DRIPR_RECEIVE_WAIT_SECONDS=2

# The campaigns: one per zip code, spread over the country (lib.sh spread_campaigns).
spread_campaigns "$N" pg 5 >"$E2E_TMP/campaigns.txt"
start_all_campaigns() {  # from the CLI, four at a time
  xargs -P 4 -L 1 bash -c 'create_and_start "$@"' _ <"$E2E_TMP/campaigns.txt"
}
count_status() { dripr campaign list --status "$1" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
at_least_ready() { (($(sql "SELECT count(*) FROM campaigns WHERE campaign_status = 'READY_TO_CREATE_EMAIL'") >= $1)); }

# ---- the run on the network database -------------------------------------------------
export DATABASE_URL=$DB_URL
# The commands before the fetchers use the default embedded bus: its file goes here, not
# into the source tree (`dripr migrate` creates it).
export EMBEDDED_BUS_PATH="$E2E_TMP/cli-bus.db"
# Before `dripr migrate`: commands refuse with the remedy; an unreachable server is one line
# without the password. Both exit 1 (a run-time failure, not a bad argument).
set +e
out=$(dripr campaign list 2>&1); rc=$?
[[ $rc -eq 1 && $out == *"run \`dripr migrate\`"* ]] || fail "unmigrated database: rc=$rc: $out"
out=$(DATABASE_URL="${DB_URL%%://*}://dripr:e2e-s3cret@127.0.0.1:1/dripr" dripr campaign list 2>&1); rc=$?
set -e
[[ $rc -eq 1 && $out == *"cannot connect to $DB_NAME"* && $out != *e2e-s3cret* && $(wc -l <<<"$out") -eq 1 ]] \
  || fail "unreachable server: rc=$rc: $out"
dripr migrate >/dev/null || fail "migrate"
dripr infra up --env dev >"$E2E_TMP/env.lines" 2>"$E2E_TMP/infra.log" || fail "infra up"
set -a
source "$E2E_TMP/env.lines"
set +a
day_before=$(date -u +%F)
start_all_campaigns || fail "starting the campaigns from the CLI"
[[ $(count_status WAITING_FOR_DATA) -eq $N ]] || fail "not every campaign is WAITING_FOR_DATA"
[[ $(sql "SELECT count(*) FROM outbox WHERE published_at IS NULL") -eq $N ]] || fail "outbox rows"

# Three fetchers; each provider call takes 150 ms so the run lasts long enough to be cut.
# A database call gives up after 2 s (then the message is retried through SQS, at most 4
# receives: below the queues' RedrivePolicy maxReceiveCount 5, or the fetchers refuse to
# start). 4 attempts with 0.5/1/2 s backoffs span ~11 s, more than the 5 s outage.
fetcher_env=(EVENT_BUS=aws DRIPR_DB_RETRY_SECONDS=2 DRIPR_MAX_ATTEMPTS=4 DRIPR_RETRY_BASE_MS=500
  DRIPR_SAMPLE_LATENCY_MS=150 DRIPR_MAX_IN_FLIGHT=4 DRIPR_DB_POOL_SIZE=4)
fetchers=()
for i in 1 2 3; do
  start_fetcher "fetcher-$i" "${fetcher_env[@]}"
  fetchers+=("$FETCHER_PID")
done

# The database goes away mid-run (a clean shutdown: the server ends every session,
# committed work is kept) for 5 s, longer than a database call waits, and comes back on the
# same port.
poll 120 "a quarter of the campaigns ready" at_least_ready $((N / 4))
db_stop || fail "stopping $DB_NAME"
sleep 5  # the outage being simulated
for pid in "${fetchers[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a fetcher died while $DB_NAME was down"; done
db_start || fail "restarting $DB_NAME"
ready_mid=$(sql "SELECT count(*) FROM campaigns WHERE campaign_status = 'READY_TO_CREATE_EMAIL'")
poll 300 "all $N campaigns ready" at_least_ready "$N"
echo "ready when $DB_NAME came back: $ready_mid of $N"
outbox_drained() { [[ $(sql "SELECT count(*) FROM outbox WHERE published_at IS NULL") -eq 0 ]]; }
poll 120 "every event published" outbox_drained
for pid in "${fetchers[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a fetcher died"; done
for pid in "${fetchers[@]}"; do kill -TERM "$pid"; done
for pid in "${fetchers[@]}"; do wait "$pid" || fail "fetcher exit code on SIGTERM"; done

# ---- what the database holds ---------------------------------------------------------------
[[ $(count_status READY_TO_CREATE_EMAIL) -eq $N ]] || fail "not all campaigns READY_TO_CREATE_EMAIL"
[[ $(sql "SELECT count(*) FROM campaigns WHERE data_cycle <> 1") -eq 0 ]] || fail "a data cycle moved"
# Each campaign: exactly two events, WAITING_FOR_DATA then READY_TO_CREATE_EMAIL, published.
bad_outbox=$(sql "SELECT count(*) FROM (SELECT campaign_id, min(id) AS first, max(id) AS last,
                 count(*) AS n, count(published_at) AS p FROM outbox GROUP BY campaign_id) x
                 WHERE n <> 2 OR p <> 2
                 OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = x.first AND o.attributes LIKE '%WAITING_FOR_DATA%')
                 OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = x.last AND o.attributes LIKE '%READY_TO_CREATE_EMAIL%')")
[[ $bad_outbox -eq 0 ]] || fail "$bad_outbox campaigns do not have exactly their two events"
[[ $(sql "SELECT count(DISTINCT campaign_id) FROM outbox") -eq $N ]] || fail "outbox campaigns"
for t in active_listings recent_sales; do
  dup=$(sql "SELECT count(*) FROM (SELECT 1 FROM $t r GROUP BY r.campaign_id, r.rank HAVING count(*) > 1) d")
  [[ $dup -eq 0 ]] || fail "$t has duplicated rows"
  empty=$(sql "SELECT count(*) FROM campaigns c WHERE NOT EXISTS (SELECT 1 FROM $t r WHERE r.campaign_id = c.id)")
  [[ $empty -eq 0 ]] || fail "$empty campaigns have no $t"
done
[[ $(sql "SELECT count(*) FROM (SELECT 1 FROM local_market_data GROUP BY zip_code HAVING count(*) <> 1) m") -eq 0 ]] \
  || fail "a zip's market data was written more than once"
# Every (campaign, part) handled to effect exactly once across the three fetchers, and every
# fetcher took a share of the work.
python3 - "$N" "$E2E_TMP"/fetcher-*.log <<'PY' || fail "handled-to-effect counts"
import re, sys
n, logs = int(sys.argv[1]), sys.argv[2:]
done, per_log = {}, {}
for path in logs:
    for line in open(path, errors="replace"):
        m = re.search(r'\[(\w+)\] campaign=(\S+) message=\S+ attempt=\d+ outcome=done reason="([^"]*)"', line)
        # Redelivered or republished events are acknowledged without effect (at-least-once).
        if m and not re.match(r"(stale|duplicate|ignored)", m.group(3)):
            done[(m.group(2), m.group(1))] = done.get((m.group(2), m.group(1)), 0) + 1
            per_log[path] = per_log.get(path, 0) + 1
twice = {k: v for k, v in done.items() if v > 1}
assert not twice, f"applied more than once: {sorted(twice)[:5]}"
assert len(done) >= 3 * n - 30, f"only {len(done)} of {3 * n} parts logged as done"
assert len(per_log) == len(logs), f"a fetcher handled nothing: {per_log}"
print("parts done per fetcher:", sorted(per_log.values()))
PY
grep -q "$DB_NAME" "$E2E_TMP"/fetcher-*.log || fail "no fetcher noticed that $DB_NAME was down"

# ---- the same campaigns on a single process: SQLite + the embedded bus --------------------
unset EMBEDDED_BUS_PATH  # the reference run: the bus in the store's own file (the default)
export DATABASE_URL="sqlite:$E2E_TMP/ref.db" EVENT_BUS=embedded
start_all_campaigns || fail "starting the reference campaigns"
start_fetcher reference
poll 300 "reference campaigns ready" all_in_status "$N" READY_TO_CREATE_EMAIL
kill -TERM "$FETCHER_PID"
wait "$FETCHER_PID" || fail "reference fetcher exit code"
if [[ $(date -u +%F) != "$day_before" ]]; then
  # The sample provider's world changes with the calendar day.
  echo "the UTC day changed during the run: rows not compared with the reference"
  echo "PASS"
  exit 0
fi
cols="r.campaign_id, r.rank, score, price, formatted_address, city, state, zip_code, latitude, longitude,
      property_type, bedrooms, bathrooms, square_footage, listed_date, days_on_market, distance_miles, source_id"
sale_cols=${cols/price/sale_price}
sale_cols=${sale_cols/listed_date/sale_date}
sale_cols=${sale_cols/days_on_market, /}
sql "SELECT $cols FROM active_listings r ORDER BY r.campaign_id, r.rank" >"$E2E_TMP/db.listings"
sql "SELECT $sale_cols FROM recent_sales r ORDER BY r.campaign_id, r.rank" >"$E2E_TMP/db.sales"
sql "SELECT zip_code, month, average_price, total_listings, old_month, old_average_price
     FROM local_market_data ORDER BY zip_code" >"$E2E_TMP/db.market"
python3 - "$E2E_TMP" "$cols" "$sale_cols" "$DB_NAME" <<'PY' || fail "$DB_NAME rows differ from the single-process run"
import sqlite3, sys
tmp, cols, sale_cols, db_name = sys.argv[1:5]
db = sqlite3.connect(f"{tmp}/ref.db")

def norm(v):
    if v is None or v == "\\N" or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)

def from_db(name):
    return [tuple(norm(f) for f in line.split("\t")) for line in open(f"{tmp}/db.{name}").read().splitlines()]

def from_sqlite(sql):
    return [tuple(norm(f) for f in row) for row in db.execute(sql)]

checks = {
    "listings": f"SELECT {cols} FROM active_listings r ORDER BY r.campaign_id, r.rank",
    "sales": f"SELECT {sale_cols} FROM recent_sales r ORDER BY r.campaign_id, r.rank",
    "market": "SELECT zip_code, month, average_price, total_listings, old_month, old_average_price "
              "FROM local_market_data ORDER BY zip_code",
}
for name, sql in checks.items():
    got, want = from_db(name), from_sqlite(sql)
    if got != want:
        diff = [(g, w) for g, w in zip(got, want) if g != w][:3]
        sys.exit(f"{name}: {len(got)} rows in {db_name}, {len(want)} expected; first differences: {diff}")
    print(f"{name}: {len(got)} rows, identical to the single-process run")
PY
echo "PASS"
