#!/usr/bin/env bash
# Issues 9 and 10: shutdown an orchestrator accepts (docs/decisions/shutdown.md), driving the
# real binary on the embedded bus and on SQS (moto_server), with slow handlers made by the
# fake RentCast server's latency faults:
#   - idle: exit 0 within 2 s of SIGTERM (SQS long polls of 20 s are interrupted);
#   - busy, handlers finishing within the deadline: exit 0, nothing left in flight;
#   - busy, deadline passed: exit 3 within deadline + 1 s, a log line saying how many
#     messages come back after their visibility timeout, every never-started message visible;
#   - a second SIGTERM exits at once (143);
#   - under load (issue 13): every slot busy, SIGTERM with handlers that finish within the
#     deadline: exit 0 within DRIPR_SHUTDOWN_DEADLINE_SECONDS, the drain time printed; the
#     never-started messages are visible at once and a second fetcher started then sends
#     their first provider request within 3 s (printed); nothing the first completed is done again
#     (provider request log, handler logs and outbox).
# Measured exit times are printed ("exit after N ms").
source "$(dirname "$0")/lib.sh"
start_fake_rentcast
KEY=$FAKE_KEY
RENTCAST_ENV=(DATA_PROVIDER=rentcast RENTCAST_BASE_URL="$FAKE_URL" RENTCAST_API_KEY="$KEY" RENTCAST_MAX_RPS=50)

# fake_latency MS COUNT — the next COUNT RentCast requests (-1: all) answer after MS.
fake_latency() {
  curl -fsS -o /dev/null -X DELETE "$FAKE_URL/__admin/faults" || fail "clear faults"
  curl -fsS -o /dev/null -X POST "$FAKE_URL/__admin/faults" \
    -d "{\"kind\":\"latency\",\"count\":$2,\"latency_ms\":$1}" || fail "set latency"
}

now_ms() { date +%s%3N; }
started() { grep -q "data-fetcher started" "$E2E_TMP/$1.log"; }
queue_sum() {  # queue_sum FIELD — over the three work queues
  dripr queues --json | python3 -c "import json,sys; print(sum(q['$1'] for q in json.load(sys.stdin)['queues']))"
}
in_flight_is() { [[ $(queue_sum in_flight) -eq $1 ]]; }

# stop_fetcher NAME PID — SIGTERM, wait; sets RC and TOOK_MS.
stop_fetcher() {
  local t0
  t0=$(now_ms)
  kill -TERM "$2"
  RC=0
  wait "$2" || RC=$?
  TOOK_MS=$(($(now_ms) - t0))
  echo "$1: exit $RC after $TOOK_MS ms" >&2
}

# start_campaigns PREFIX N — created and started from the CLI (3 part events each).
start_campaigns() {
  local i
  for ((i = 1; i <= $2; i++)); do
    dripr campaign create --id "$1-$i" --zip 78723 --lat 30.29 --lng -97.70 >/dev/null || fail "create $1-$i"
    dripr campaign start "$1-$i" >/dev/null || fail "start $1-$i"
  done
}

# busy_overrun NAME [ENV...] — one slow handler per queue (10 s) and two messages per queue
# never started; deadline 2 s.
busy_overrun() {
  local name=$1
  shift
  fake_latency 10000 -1
  start_fetcher "$name" "$@" "${RENTCAST_ENV[@]}" DRIPR_MAX_IN_FLIGHT=1 DRIPR_SHUTDOWN_DEADLINE_SECONDS=2
  local pid=$FETCHER_PID
  poll 30 "$name started" started "$name"
  start_campaigns "$name" 3
  poll 30 "$name: one handler per queue running" in_flight_is 3
  stop_fetcher "$name" "$pid"
  [[ $RC -eq 3 ]] || fail "$name: exit $RC, expected 3 (deadline passed with handlers running)"
  ((TOOK_MS <= 3000)) || fail "$name: exit took $TOOK_MS ms, more than deadline 2 s + 1 s"
  grep -q "3 message(s) still being handled: they will come back after their visibility timeout" "$E2E_TMP/$name.log" \
    || fail "$name: no log line counting the messages that come back later"
  # Never-started messages were never taken (max in flight 1): all visible right away; the
  # three overrunning ones stay leased until their visibility timeout.
  [[ $(queue_sum visible) -eq 6 ]] || fail "$name: $(queue_sum visible) messages visible, expected 6"
  [[ $(queue_sum in_flight) -eq 3 ]] || fail "$name: $(queue_sum in_flight) in flight, expected 3"
}

# ---- Embedded bus ----
export DATABASE_URL="sqlite:$E2E_TMP/idle.db" EVENT_BUS=embedded DRIPR_LOG_LEVEL=info
dripr migrate >/dev/null || fail "migrate"

# 1. Idle.
start_fetcher emb-idle
poll 30 "emb-idle started" started emb-idle
stop_fetcher emb-idle "$FETCHER_PID"
[[ $RC -eq 0 ]] || fail "embedded idle: exit $RC"
((TOOK_MS <= 2000)) || fail "embedded idle: exit took $TOOK_MS ms (> 2 s)"

# 2. Busy, the handlers finish within the deadline: they complete, exit 0.
export DATABASE_URL="sqlite:$E2E_TMP/busy.db"
dripr migrate >/dev/null || fail "migrate"
fake_latency 1500 3
start_fetcher emb-busy "${RENTCAST_ENV[@]}" DRIPR_MAX_IN_FLIGHT=1 DRIPR_SHUTDOWN_DEADLINE_SECONDS=10
poll 30 "emb-busy started" started emb-busy
start_campaigns busy 1
poll 30 "emb-busy: handlers running" in_flight_is 3
stop_fetcher emb-busy "$FETCHER_PID"
[[ $RC -eq 0 ]] || fail "embedded busy: exit $RC"
((TOOK_MS <= 11000)) || fail "embedded busy: exit took $TOOK_MS ms"
[[ $(queue_sum in_flight) -eq 0 ]] || fail "embedded busy: messages left in flight after a clean stop"
status_is busy-1 READY_TO_CREATE_EMAIL || fail "embedded busy: the drained campaign is $(campaign_status busy-1)"

# 3. Busy, the deadline passes.
export DATABASE_URL="sqlite:$E2E_TMP/overrun.db"
dripr migrate >/dev/null || fail "migrate"
busy_overrun emb-overrun

# 4. A second SIGTERM exits at once.
export DATABASE_URL="sqlite:$E2E_TMP/second.db"
dripr migrate >/dev/null || fail "migrate"
fake_latency 10000 -1
start_fetcher emb-second "${RENTCAST_ENV[@]}" DRIPR_MAX_IN_FLIGHT=1 DRIPR_SHUTDOWN_DEADLINE_SECONDS=30
pid=$FETCHER_PID
poll 30 "emb-second started" started emb-second
start_campaigns second 1
poll 30 "emb-second: handlers running" in_flight_is 3
kill -TERM "$pid"
shutting_down() { grep -q "shutting down" "$E2E_TMP/emb-second.log"; }
poll 10 "first SIGTERM taken" shutting_down
stop_fetcher emb-second "$pid"
[[ $RC -eq 143 ]] || fail "second SIGTERM: exit $RC, expected 143"
((TOOK_MS <= 1000)) || fail "second SIGTERM: exit took $TOOK_MS ms"

# 4b. Under load: two slots per queue, all busy with 3 s provider calls, and as many
# messages again never started. Fetcher load-b starts as load-a exits (the pick-up time
# includes its start-up, ~0.1 s).
export DATABASE_URL="sqlite:$E2E_TMP/load.db"
dripr migrate >/dev/null || fail "migrate"
fake_latency 3000 -1
curl -fsS -o /dev/null -X DELETE "$FAKE_URL/__admin/requests" || fail "clear request log"
start_fetcher load-a "${RENTCAST_ENV[@]}" DRIPR_MAX_IN_FLIGHT=2 DRIPR_SHUTDOWN_DEADLINE_SECONDS=10
load_a=$FETCHER_PID
poll 30 "load-a started" started load-a
for i in 1 2 3 4; do  # each at its own point: no two handlers send the same query
  dripr campaign create --id "load-$i" --zip 78723 --lat "30.29$i" --lng -97.70 >/dev/null || fail "create load-$i"
  dripr campaign start "load-$i" >/dev/null || fail "start load-$i"
done
poll 30 "load-a: every slot busy" in_flight_is 6
stop_fetcher load-a "$load_a"
exit_ms=$(now_ms)
[[ $RC -eq 0 ]] || fail "under load: exit $RC, expected 0 (handlers finish within the deadline)"
((TOOK_MS <= 10000)) || fail "under load: drain took $TOOK_MS ms, more than the 10 s deadline"
echo "under load: drain time $TOOK_MS ms (6 handlers of 3 s each running at SIGTERM)"
[[ $(queue_sum visible) -eq 6 && $(queue_sum in_flight) -eq 0 ]] \
  || fail "under load: $(queue_sum visible) visible / $(queue_sum in_flight) in flight after exit, expected 6 / 0"
curl -fsS -o /dev/null -X DELETE "$FAKE_URL/__admin/faults" || fail "clear faults"
start_fetcher load-b "${RENTCAST_ENV[@]}" DRIPR_MAX_IN_FLIGHT=2
load_b=$FETCHER_PID
poll 30 "the rest done by load-b" all_in_status 4 READY_TO_CREATE_EMAIL
stop_fetcher load-b "$load_b"
[[ $RC -eq 0 ]] || fail "load-b: exit $RC"
curl -fsS "$FAKE_URL/__admin/requests" >"$E2E_TMP/load-requests.json" || fail "request log"
dripr campaign list --json >"$E2E_TMP/load-campaigns.json" || fail "campaign list"
python3 - "$E2E_TMP" "$exit_ms" <<'PY' || fail "under load: work done twice or picked up late"
import json, re, sys
tmp, exit_ms = sys.argv[1], int(sys.argv[2])
reqs = json.load(open(f"{tmp}/load-requests.json"))
before = {(r["path"], r["query"]) for r in reqs if r["time_ms"] < exit_ms}
after = [r for r in reqs if r["time_ms"] >= exit_ms]
assert after, "load-b sent no provider request"
again = before & {(r["path"], r["query"]) for r in after}
assert not again, f"requests load-a completed were sent again: {sorted(again)[:3]}"
pickup = min(r["time_ms"] for r in after) - exit_ms
assert pickup <= 3000, f"load-b's first request {pickup} ms after load-a exited"
print(f"under load: the never-started messages' first provider request {pickup} ms after "
      "load-a exited (load-b started then)")
done = {}
for name in ("load-a", "load-b"):
    for line in open(f"{tmp}/{name}.log", errors="replace"):
        m = re.search(r'\[(\w+)\] campaign=(\S+) .*outcome=done reason="([^"]*)"', line)
        if m and not re.match(r"(stale|duplicate|ignored)", m.group(3)):
            done.setdefault((m.group(2), m.group(1)), []).append(name)
twice = {k: v for k, v in done.items() if len(v) > 1}
assert not twice, f"done twice: {twice}"
assert len(done) == 12, f"{len(done)} of 12 parts done: {sorted(done)}"
a = sum(1 for v in done.values() if v == ["load-a"])
assert a == 6, f"load-a completed {a} parts, expected the 6 it had started"
PY
for i in 1 2 3 4; do
  n=$(dripr campaign show "load-$i" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')
  [[ $n -eq 2 ]] || fail "load-$i has $n events, expected 2"
done

# ---- SQS (moto) ----
start_private_moto
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDE2ETESTKEY AWS_SECRET_ACCESS_KEY="e2e-secret-$RANDOM$RANDOM" \
  AWS_EC2_METADATA_DISABLED=true DATABASE_URL="sqlite:$E2E_TMP/aws.db"
dripr infra up --env dev >"$E2E_TMP/env.lines" 2>"$E2E_TMP/infra.log" || fail "infra up"
set -a
source "$E2E_TMP/env.lines"
set +a
dripr migrate >/dev/null || fail "migrate"

# 5. Idle, on 20 s long polls (the SQS default).
start_fetcher sqs-idle EVENT_BUS=aws
poll 30 "sqs-idle started" started sqs-idle
stop_fetcher sqs-idle "$FETCHER_PID"
[[ $RC -eq 0 ]] || fail "SQS idle: exit $RC"
((TOOK_MS <= 2000)) || fail "SQS idle: exit took $TOOK_MS ms (> 2 s)"

# 6. Busy on SQS, the deadline passes. Queues of their own: the polls abandoned in 5. stay
# open on the server for the rest of their 20 s and may take (for 5 s) messages sent now.
# The dev names are unset first: `infra up` adopts the resources the environment names.
unset SNS_CAMPAIGN_EVENTS_TOPIC_ARN SQS_LOCAL_MARKET_UPDATES_QUEUE_URL SQS_ACTIVE_LISTINGS_QUEUE_URL \
  SQS_RECENT_SALES_QUEUE_URL
dripr infra up --env prod >"$E2E_TMP/env-ovr.lines" 2>>"$E2E_TMP/infra.log" || fail "infra up prod"
grep -q -- "-prod" "$E2E_TMP/env-ovr.lines" || fail "infra up --env prod did not name prod queues"
set -a
source "$E2E_TMP/env-ovr.lines"
set +a
export DATABASE_URL="sqlite:$E2E_TMP/aws-overrun.db"
dripr migrate >/dev/null || fail "migrate"
busy_overrun sqs-overrun EVENT_BUS=aws

for f in "$E2E_TMP"/*.log; do
  grep -q -- "$AWS_SECRET_ACCESS_KEY" "$f" && fail "the AWS secret key appears in $f"
done
echo "PASS"
