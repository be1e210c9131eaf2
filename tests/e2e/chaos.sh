# Issue 13, "Chaos suite". Sourced by test_chaos.sh (CHAOS_MODE=network: PostgreSQL + SNS/SQS
# on moto_server) and test_chaos_embedded.sh (CHAOS_MODE=embedded: SQLite + the embedded bus).
#
# Three `dripr data-fetcher`s on DATA_PROVIDER=rentcast against the fake RentCast server with
# a seeded fault mix (20 % 5xx, 5 % 429 with Retry-After, 5 % time-outs, 2 % malformed
# bodies), CHAOS_CAMPAIGNS (500) campaigns started from the CLI, and, at moments a seeded
# generator picks (as the share of campaigns finished), fetchers kill -9'd and restarted
# (6 times across the three); on the network backend also PostgreSQL stopped for 10 s and
# moto_server stopped for 10 s, then restarted empty and `dripr infra up` replayed with the
# publishers (the fetchers) held, as docs/operations.md prescribes.
#
# Pass: every campaign READY_TO_CREATE_EMAIL or ERROR naming a permanent cause; none left
# WAITING_FOR_DATA; no duplicated (campaign, rank) row; no (campaign, part) applied twice
# (audit triggers this script installs: a part turning READY, and every listing/sale row
# written, are recorded in the transaction that does it); each campaign's events exactly
# WAITING_FOR_DATA (+ one identical copy per reconciler republish), then its final status, in
# order and published; provider requests at most 3x the fault-free count.
#
# The fault-free count: the fake world is deterministic and every campaign has its own zip
# and point, so a run without faults sends each distinct (endpoint, query) exactly once;
# the distinct requests in the fake's log are that count (a retry repeats its query). This
# holds with or without a cluster-wide market single flight (at most one /markets per zip).
#
# CHAOS_SEED=N replays a schedule (printed at the start). CHAOS_DEADLINE_SECONDS (240) is a
# hard limit: past it the script fails with a diagnosis instead of waiting.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MODE=${CHAOS_MODE:?CHAOS_MODE must be network or embedded}
N=${CHAOS_CAMPAIGNS:-500}
KILLS=${CHAOS_KILLS:-6}
SEED=${CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}
LIMIT=${CHAOS_DEADLINE_SECONDS:-240}
FAULTS=${CHAOS_FAULTS:-5xx=0.20,429=0.05,timeout=0.05,malformed=0.02}
echo "chaos seed: $SEED (CHAOS_SEED=$SEED replays this schedule), mode $MODE, $N campaigns"
T0=$SECONDS

# ---- the fake RentCast server with the fault mix -----------------------------------------
# A time-out holds the request 2.5 s, past the client's 1 s RENTCAST_TIMEOUT_SECONDS.
chaos_spec="seed=$SEED,timeout_ms=2500,retry_after=1"
[[ $FAULTS != off ]] && chaos_spec+=",$FAULTS"
start_fake_rentcast --chaos "$chaos_spec"
KEY=$FAKE_KEY

# ---- the backend --------------------------------------------------------------------------
case $MODE in
  network)
    start_private_postgres
    psql "$DRIPR_TEST_PG_URL" -Xqc "CREATE DATABASE dripr_chaos" >/dev/null || fail "create database"
    export DATABASE_URL="${DRIPR_TEST_PG_URL%/*}/dripr_chaos"
    sql() { psql "$DATABASE_URL" -XAtq -F $'\t' -P null='\N' -c "$1"; }
    start_private_moto
    export EVENT_BUS=aws AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 \
      AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDCHAOSTESTKEY \
      AWS_SECRET_ACCESS_KEY="chaos-secret-$RANDOM$RANDOM" AWS_EC2_METADATA_DISABLED=true
    ;;
  embedded)
    export DATABASE_URL="sqlite:$E2E_TMP/chaos.db" EVENT_BUS=embedded
    sql() { sqlite3 -separator $'\t' -nullvalue '\N' -cmd '.timeout 10000' "$E2E_TMP/chaos.db" "$1"; }
    ;;
  *) fail "CHAOS_MODE must be network or embedded, got $MODE" ;;
esac

# Settings (docs/decisions/chaos.md says why): queues' visibility 5 s so a killed fetcher's
# messages come back quickly (the engine extends the lease of a slow handler); SQS long polls
# of 1 s; database calls wait 3 s, engine retries 2/4/8 s apart with 4 attempts (below
# maxReceiveCount 5); the database outage uses no attempts (the engine runs a message again in
# place while the store is down: docs/decisions/consumer.md); the reconciler every
# 2 s republishes what has not moved for 20 s (the events moto lost) and gives up only after
# 10 republishes (a backlog on a slow machine is not a lost event); a 1 s provider time-out,
# 50 ms provider backoff and no rate bound (RENTCAST_MAX_RPS=1000).
export DRIPR_VISIBILITY_TIMEOUT_SECONDS=5
fetcher_env=(DATA_PROVIDER=rentcast RENTCAST_BASE_URL="$FAKE_URL" RENTCAST_API_KEY="$KEY"
  RENTCAST_MAX_RPS=1000 RENTCAST_TIMEOUT_SECONDS=1 RENTCAST_BACKOFF_INITIAL_MS=50
  RENTCAST_DEADLINE_SECONDS=20 DRIPR_RECEIVE_WAIT_SECONDS=1 DRIPR_DB_RETRY_SECONDS=3
  DRIPR_MAX_ATTEMPTS=4 DRIPR_RETRY_BASE_MS=2000 DRIPR_MAX_IN_FLIGHT=8 DRIPR_DB_POOL_SIZE=4
  DRIPR_RECONCILE_INTERVAL_SECONDS=2 DRIPR_STUCK_AFTER_SECONDS=20 DRIPR_MAX_REPUBLISH=10
  DRIPR_SHUTDOWN_DEADLINE_SECONDS=5
  DRIPR_LOG_LEVEL=info)

dripr migrate >/dev/null || fail "migrate"
if [[ $MODE == network ]]; then
  dripr infra up --env dev >"$E2E_TMP/env.lines" 2>"$E2E_TMP/infra.log" || fail "infra up"
  set -a
  source "$E2E_TMP/env.lines"
  set +a
fi

# The audit: every part turning READY and every listing/sale row written, recorded by the
# transaction that does it (a rolled-back attempt leaves nothing).
if [[ $MODE == network ]]; then
  sql "CREATE TABLE chaos_applies (campaign_id text, part text, data_cycle bigint);
    CREATE TABLE chaos_rows (campaign_id text, tbl text, rank integer);
    CREATE FUNCTION chaos_applied() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
      IF NEW.active_listing_status = 'READY' AND OLD.active_listing_status <> 'READY' THEN
        INSERT INTO chaos_applies VALUES (NEW.id, 'active_listings', NEW.data_cycle); END IF;
      IF NEW.recent_sale_status = 'READY' AND OLD.recent_sale_status <> 'READY' THEN
        INSERT INTO chaos_applies VALUES (NEW.id, 'recent_sales', NEW.data_cycle); END IF;
      IF NEW.local_market_data_status = 'READY' AND OLD.local_market_data_status <> 'READY' THEN
        INSERT INTO chaos_applies VALUES (NEW.id, 'local_market_data', NEW.data_cycle); END IF;
      RETURN NEW; END \$\$;
    CREATE TRIGGER chaos_applied AFTER UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION chaos_applied();
    CREATE FUNCTION chaos_row() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
      INSERT INTO chaos_rows VALUES (NEW.campaign_id, TG_TABLE_NAME, NEW.rank); RETURN NEW; END \$\$;
    CREATE TRIGGER chaos_row AFTER INSERT ON active_listings FOR EACH ROW EXECUTE FUNCTION chaos_row();
    CREATE TRIGGER chaos_row AFTER INSERT ON recent_sales FOR EACH ROW EXECUTE FUNCTION chaos_row();" \
    >/dev/null || fail "audit triggers"
else
  audit=""
  for p in active_listing:active_listings recent_sale:recent_sales local_market_data:local_market_data; do
    col=${p%%:*}_status part=${p#*:}
    audit+="CREATE TRIGGER chaos_$part AFTER UPDATE OF $col ON campaigns
      WHEN NEW.$col = 'READY' AND OLD.$col IS NOT 'READY'
      BEGIN INSERT INTO chaos_applies VALUES (NEW.id, '$part', NEW.data_cycle); END;"
  done
  for t in active_listings recent_sales; do
    audit+="CREATE TRIGGER chaos_row_$t AFTER INSERT ON $t
      BEGIN INSERT INTO chaos_rows VALUES (NEW.campaign_id, '$t', NEW.rank); END;"
  done
  sql "CREATE TABLE chaos_applies (campaign_id, part, data_cycle);
    CREATE TABLE chaos_rows (campaign_id, tbl, rank); $audit" || fail "audit triggers"
fi

# ---- the hard deadline -----------------------------------------------------------------
diagnose() {
  echo "--- diagnosis after $((SECONDS - T0)) s (seed $SEED)" >&2
  sql "SELECT campaign_status, count(*) FROM campaigns GROUP BY 1" >&2 || echo "(database unreachable)" >&2
  sql "SELECT id, active_listing_status, recent_sale_status, local_market_data_status,
       republish_count, error_text FROM campaigns WHERE campaign_status = 'WAITING_FOR_DATA'
       ORDER BY id LIMIT 10" >&2 || true
  sql "SELECT count(*) AS unpublished FROM outbox WHERE published_at IS NULL" >&2 || true
  dripr queues >&2 || true
  curl -fsS "$FAKE_URL/__stats" >&2 || true
  echo >&2
}
chaos_fail() {
  diagnose
  fail "$*"
}
# wait_for DESCRIPTION COMMAND... — polls COMMAND until it succeeds; past the deadline, fails.
wait_for() {
  local what=$1
  shift
  until "$@" 2>/dev/null; do
    ((SECONDS - T0 < LIMIT)) || chaos_fail "hard deadline ${LIMIT}s passed waiting for: $what"
    sleep 0.2
  done
}

# ---- fetchers -----------------------------------------------------------------------------
declare -A FPID FGEN
KILLED=0
launch() {  # launch I — fetcher I (1..3), a new log per incarnation
  FGEN[$1]=$((${FGEN[$1]:-0} + 1))
  start_fetcher "fetcher-$1-${FGEN[$1]}" "${fetcher_env[@]}"
  FPID[$1]=$FETCHER_PID
}
for i in 1 2 3; do launch "$i"; done

finished() { sql "SELECT count(*) FROM campaigns WHERE campaign_status IN ('READY_TO_CREATE_EMAIL', 'ERROR')"; }
finished_at_least() { (($(finished) >= $1)); }

# The campaigns: one per zip code, spread over the country (lib.sh spread_campaigns). Started
# from the CLI, four at a time, while the chaos goes on.
spread_campaigns "$N" ch 7 >"$E2E_TMP/campaigns.txt"
# A create or start that meets the database outage is retried, as an operator's script would
# (the CLI exits 1 with one clear line and leaves nothing half-done).
create_with_retry() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    create_and_start "$@" 2>/dev/null && return 0
    # Created but not started, or not created at all: both are retried.
    [[ $("$DRIPR_BIN" campaign show "$1" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["campaign_status"])' 2>/dev/null) == DORMANT ]] \
      && "$DRIPR_BIN" campaign start "$1" >/dev/null 2>&1 && return 0
    sleep 2
  done
  echo "could not start $1" >&2
  return 1
}
export -f create_with_retry
xargs -P 4 -L 1 bash -c 'create_with_retry "$@"' _ <"$E2E_TMP/campaigns.txt" >"$E2E_TMP/starts.log" 2>&1 &
STARTER=$!
E2E_PIDS+=("$STARTER")

# ---- the schedule: events at shares of finished campaigns, from the seed ------------------
python3 - "$SEED" "$MODE" "$KILLS" >"$E2E_TMP/schedule.txt" <<'PY'
import random, sys
rng = random.Random(int(sys.argv[1]))
mode, kills = sys.argv[2], int(sys.argv[3])
events = [(rng.uniform(0.02, 0.85), f"kill {rng.randint(1, 3)}") for _ in range(kills)]
if mode == "network":
    events.append((rng.uniform(0.15, 0.45), "db"))
    events.append((rng.uniform(0.45, 0.75), "moto"))
for share, what in sorted(events):
    print(f"{share:.3f} {what}")
PY
echo "schedule (share of campaigns finished, event):"
sed 's/^/  /' "$E2E_TMP/schedule.txt"

kill_fetcher() {  # kill_fetcher I — kill -9, then the same fetcher again
  kill -9 "${FPID[$1]}" 2>/dev/null || true
  wait "${FPID[$1]}" 2>/dev/null || true
  KILLED=$((KILLED + 1))
  launch "$1"
}
db_outage() {
  pg_server_stop || chaos_fail "stopping PostgreSQL"
  sleep 10  # the outage being simulated
  pg_server_start || chaos_fail "restarting PostgreSQL"
}
moto_outage() {
  kill "$MOTO_PID"
  wait "$MOTO_PID" 2>/dev/null || true
  sleep 10  # the outage being simulated
  # docs/operations.md, "A restarted moto_server": hold the publishers (the fetchers' relays;
  # the CLI only writes the outbox) while moto restarts empty and `infra up` recreates it.
  local i
  for i in 1 2 3; do kill -STOP "${FPID[$i]}"; done
  start_private_moto
  dripr infra up --env dev >"$E2E_TMP/env-again.lines" 2>>"$E2E_TMP/infra.log" \
    || chaos_fail "infra up after the moto restart"
  for i in 1 2 3; do kill -CONT "${FPID[$i]}"; done
  cmp -s "$E2E_TMP/env.lines" "$E2E_TMP/env-again.lines" || chaos_fail "infra up gave other names"
}

while read -r share what target; do
  at=$(python3 -c "import math; print(math.ceil($share * $N))")
  wait_for "$at campaigns finished (before: $what $target)" finished_at_least "$at"
  echo "$((SECONDS - T0)) s: $(finished) finished: $what $target"
  case $what in
    kill) kill_fetcher "$target" ;;
    db) db_outage ;;
    moto) moto_outage ;;
  esac
done <"$E2E_TMP/schedule.txt"

all_done() { ! kill -0 "$STARTER" 2>/dev/null && finished_at_least "$N"; }
wait_for "all $N campaigns finished" all_done
wait "$STARTER" || chaos_fail "some campaigns could not be started (see starts.log): $(tail -3 "$E2E_TMP/starts.log")"
outbox_drained() { [[ $(sql "SELECT count(*) FROM outbox WHERE published_at IS NULL") -eq 0 ]]; }
wait_for "every event published" outbox_drained
WALL=$((SECONDS - T0))
for i in 1 2 3; do
  kill -0 "${FPID[$i]}" 2>/dev/null || chaos_fail "fetcher $i died (not killed by the test)"
done
for i in 1 2 3; do kill -TERM "${FPID[$i]}"; done
for i in 1 2 3; do wait "${FPID[$i]}" || chaos_fail "fetcher $i: exit $? on SIGTERM, expected 0"; done

# ---- the checks -----------------------------------------------------------------------------
sql "SELECT id, campaign_status, coalesce(error_text, ''), data_cycle, republish_count FROM campaigns ORDER BY id" \
  >"$E2E_TMP/final.tsv" || chaos_fail "reading campaigns"
sql "SELECT campaign_id, id, body, published_at IS NOT NULL FROM outbox ORDER BY campaign_id, id" \
  >"$E2E_TMP/outbox.tsv" || chaos_fail "reading the outbox"
sql "SELECT campaign_id, part, data_cycle, count(*) FROM chaos_applies GROUP BY 1, 2, 3 HAVING count(*) > 1" \
  >"$E2E_TMP/applied-twice.tsv" || chaos_fail "reading the audit"
sql "SELECT campaign_id, tbl, rank, count(*) FROM chaos_rows GROUP BY 1, 2, 3 HAVING count(*) > 1" \
  >"$E2E_TMP/rows-twice.tsv" || chaos_fail "reading the row audit"
sql "SELECT 'active_listings', count(*) FROM (SELECT 1 FROM active_listings GROUP BY campaign_id, rank HAVING count(*) > 1) d
     UNION ALL SELECT 'recent_sales', count(*) FROM (SELECT 1 FROM recent_sales GROUP BY campaign_id, rank HAVING count(*) > 1) d
     UNION ALL SELECT 'applies', count(*) FROM chaos_applies" >"$E2E_TMP/dups.tsv" || chaos_fail "duplicate rows"
curl -fsS "$FAKE_URL/__admin/requests" >"$E2E_TMP/requests.json" || chaos_fail "fake request log"
curl -fsS "$FAKE_URL/__stats" >"$E2E_TMP/stats.json" || chaos_fail "fake stats"
dlq=$(dripr queues --json 2>>"$E2E_TMP/cli.log" | python3 -c 'import json,sys; print(sum(q["dlq_visible"] + q["dlq_in_flight"] for q in json.load(sys.stdin)["queues"]))') \
  || chaos_fail "queues --json"

python3 - "$E2E_TMP" "$N" "$KILLED" "$dlq" "$WALL" "$SEED" "$MODE" <<'PY' || chaos_fail "the chaos checks"
import collections, glob, json, re, sys
tmp, n, kills, dlq, wall, seed, mode = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
problems = []
PERMANENT = re.compile(r"no market data for zip|only \d+ \S+ within|no coordinates for zip|RentCast rejected")

final = [l.split("\t") for l in open(f"{tmp}/final.tsv").read().splitlines()]
states = collections.Counter(f[1] for f in final)
if len(final) != n:
    problems.append(f"{len(final)} campaigns in the database, {n} started")
for cid, status, error, cycle, _ in final:
    if status == "ERROR" and not PERMANENT.search(error):
        problems.append(f"{cid}: ERROR without a permanent cause: {error}")
    elif status not in ("READY_TO_CREATE_EMAIL", "ERROR"):
        problems.append(f"{cid}: left in {status}")
    if cycle != "1":
        problems.append(f"{cid}: data cycle {cycle}, expected 1")

# Events: WAITING_FOR_DATA, one identical copy per republish, then the final status; all
# published, in order.
events = collections.defaultdict(list)
for line in open(f"{tmp}/outbox.tsv").read().splitlines():
    cid, _, body, published = line.split("\t")
    p = json.loads(body)["payload"]
    events[cid].append((p["to_status"], p.get("event_id"), published in ("t", "1")))
for cid, status, _, _, republished in final:
    ev = events.get(cid, [])
    want = ["WAITING_FOR_DATA"] * (1 + int(republished)) + [status]
    got = [e[0] for e in ev]
    if got != want:
        problems.append(f"{cid}: events {got}, expected {want}")
    elif len({e[1] for e in ev[:-1]}) != 1:
        problems.append(f"{cid}: republished events are not copies of the first: {ev}")
    if not all(e[2] for e in ev):
        problems.append(f"{cid}: an event was never published")

for name in ("applied-twice", "rows-twice"):
    rows = open(f"{tmp}/{name}.tsv").read().splitlines()
    if rows:
        problems.append(f"{len(rows)} (campaign, part) applied twice ({name}): {rows[:3]}")
dups = dict(l.split("\t") for l in open(f"{tmp}/dups.tsv").read().splitlines())
for t in ("active_listings", "recent_sales"):
    if dups[t] != "0":
        problems.append(f"{t}: {dups[t]} duplicated (campaign, rank) rows")
ready = states.get("READY_TO_CREATE_EMAIL", 0)
applies = int(dups["applies"])
if applies < 3 * ready:
    problems.append(f"only {applies} part applications recorded for {ready} ready campaigns")

# Provider requests against the fault-free count (distinct requests; see the header).
reqs = json.load(open(f"{tmp}/requests.json"))
stats = json.load(open(f"{tmp}/stats.json"))
calls = len(reqs)
clean = len({(r["path"], r["query"]) for r in reqs})
ratio = calls / clean if clean else float("inf")
if ratio > 3:
    problems.append(f"provider requests {calls} > 3x the fault-free {clean}")

retries = engine_fail = 0
for path in glob.glob(f"{tmp}/fetcher-*.log"):
    for line in open(path, errors="replace"):
        if "outcome=retry" in line:
            retries += 1
        if "outcome=failed" in line:
            engine_fail += 1
kinds = stats["by_kind"]
print(f"chaos figures (seed {seed}, {mode}):")
print(f"  campaigns per final state: {dict(sorted(states.items()))}")
errors = collections.Counter(re.sub(r"\d{5}", "Z", f[2])[:60] for f in final if f[1] == "ERROR")
if errors:
    print(f"  ERROR reasons: {dict(errors)}")
print(f"  fetcher kill -9s: {kills}; engine retries: {retries}; DLQ copies: {dlq}; "
      f"republished by the reconciler: {sum(int(f[4]) for f in final)}")
print(f"  provider requests: {calls} vs fault-free {clean} ({ratio:.2f}x; bound 3x); injected: "
      f"5xx {kinds['5xx']}, 429 {kinds['429']}, timeout {kinds['timeout']}, "
      f"malformed {kinds['malformed']}")
print(f"  wall time: {wall} s")
if problems:
    print(f"{len(problems)} problem(s):", *problems[:20], sep="\n  ", file=sys.stderr)
    sys.exit(1)
PY
for f in "$E2E_TMP"/*.log; do
  grep -q -- "$KEY" "$f" && fail "the API key appears in $f"
  [[ -n ${AWS_SECRET_ACCESS_KEY:-} ]] && grep -q -- "$AWS_SECRET_ACCESS_KEY" "$f" && fail "the AWS secret appears in $f"
done
echo "PASS"
