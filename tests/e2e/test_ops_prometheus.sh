#!/usr/bin/env bash
# Issue 11 (ops): a real Prometheus server scrapes a running data fetcher; the handled-message
# counter it stores rises by exactly the number of events processed. Also: promtool on a
# real scrape, /healthz and /readyz, JSON logs, bad DRIPR_OPS_ADDR / DRIPR_LOG_FORMAT, a
# taken port, and no secret in JSON logs.
source "$(dirname "$0")/lib.sh"
export DATABASE_URL="sqlite:$E2E_TMP/e2e.db" EVENT_BUS=embedded DATA_PROVIDER=sample
command -v prometheus >/dev/null && command -v promtool >/dev/null \
  || fail "prometheus/promtool not installed (Debian package prometheus; scripts/install-deps.sh)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 1. Bad settings are refused before anything starts: exit 2, one line naming the variable.
set +e
out=$(DRIPR_OPS_ADDR=localhost dripr data-fetcher 2>&1); rc=$?
set -e
[[ $rc -eq 2 && $out == *DRIPR_OPS_ADDR* ]] || fail "bad DRIPR_OPS_ADDR: rc=$rc out=$out"
set +e
out=$(DRIPR_LOG_FORMAT=yaml dripr data-fetcher 2>&1); rc=$?
set -e
[[ $rc -eq 2 && $out == *DRIPR_LOG_FORMAT* ]] || fail "bad DRIPR_LOG_FORMAT: rc=$rc out=$out"

dripr migrate >/dev/null || fail "migrate"
start_fetcher fetcher DRIPR_LOG_FORMAT=json
fetcher=$FETCHER_PID
poll 20 "ops URL logged" grep -q 'ops server listening on' "$E2E_TMP/fetcher.log"
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$E2E_TMP/fetcher.log" | head -1)
ops_port=${url##*:}
echo "fetcher ops server: $url"

# 2. A second fetcher on the same port stops at once (exit 1) and says why.
set +e
out=$(DRIPR_OPS_ADDR="127.0.0.1:$ops_port" timeout 20 "$DRIPR_BIN" data-fetcher 2>&1); rc=$?
set -e
[[ $rc -eq 1 && $out == *"DRIPR_OPS_ADDR 127.0.0.1:$ops_port"* ]] || fail "port in use: rc=$rc out=$out"

# 3. Health and readiness.
[[ $(curl -s -o /dev/null -w '%{http_code}' "$url/healthz") == 200 ]] || fail "healthz not 200"
ready() { [[ $(curl -s -o "$E2E_TMP/readyz.json" -w '%{http_code}' "$url/readyz") == 200 ]]; }
poll 10 "readyz 200" ready
json_get "$(cat "$E2E_TMP/readyz.json")" 'd["checks"]' | grep -q "'database': 'ok'" || fail "readyz body: $(cat "$E2E_TMP/readyz.json")"

# 4. A real Prometheus server on loopback, scraping every second.
prom_port=$(free_port)
mkdir -p "$E2E_TMP/prom-data"
cat >"$E2E_TMP/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: dripr
    static_configs: [{targets: ["127.0.0.1:$ops_port"]}]
YAML
prometheus --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/prom-data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$E2E_TMP/prometheus.log" 2>&1 &
E2E_PIDS+=($!)
prom="http://127.0.0.1:$prom_port"
poll 30 "prometheus ready" curl -fs -o /dev/null "$prom/-/ready"
# query EXPR — the value of an instant query's first sample ("none" when empty).
query() {
  curl -fsS --data-urlencode "query=$1" "$prom/api/v1/query" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")'
}
handled='sum(dripr_messages_handled_total{job="dripr",outcome="done"})'
poll 30 "first scrape stored" eval '[[ $(query "$handled") != none ]]'
before=$(query "$handled")

N=20
for i in $(seq 1 $N); do
  dripr campaign create --id "p-$i" --zip 02139 --address "$i Main St" --lat 42.36 --lng -71.10 \
    --current-value 500000 >/dev/null || fail "create p-$i"
  dripr campaign start "p-$i" >/dev/null || fail "start p-$i"
done
poll 60 "$N campaigns ready" all_in_status $N READY_TO_CREATE_EMAIL
want=$((before + 3 * N))
poll 30 "Prometheus sees $handled = $want" eval '[[ $(query "$handled") == "$want" ]]'
echo "prometheus: $handled went from $before to $want ($N campaigns x 3 parts)"
[[ $(query 'sum(dripr_messages_received_total{job="dripr"})') == $((3 * N)) ]] || fail "received_total"
[[ $(query 'dripr_build_info{store="sqlite",bus="embedded",provider="sample"}') == 1 ]] || fail "build_info"
[[ $(query 'sum(dripr_in_flight)') == 0 ]] || fail "in_flight not back to 0"
[[ $(query 'sum(dripr_handler_duration_seconds_count)') == $((3 * N)) ]] || fail "handler histogram count"
# Listings and sales per campaign (market data of the one zip is fetched once, then reused).
provider_calls=$(query 'sum(dripr_provider_requests_total{provider="sample",code="200"})')
((provider_calls >= 2 * N + 1)) || fail "provider requests: $provider_calls"
# Sampled from the database at most every 10 s.
poll 25 "campaign gauge" eval '[[ $(query "dripr_campaigns{status=\"READY_TO_CREATE_EMAIL\"}") == $N ]]'

# 5. promtool on a real scrape: no errors, no lint findings.
curl -fsS "$url/metrics" >"$E2E_TMP/scrape.txt" || fail "scrape"
lint=$(promtool check metrics <"$E2E_TMP/scrape.txt" 2>&1) || fail "promtool check metrics: $lint"
[[ -z $lint ]] || fail "promtool findings: $lint"

# 6. Every log line is one JSON object with ts, level, msg; handled lines carry the fields.
python3 - "$E2E_TMP/fetcher.log" <<'PY' || fail "JSON log lines"
import json, re, sys
handled = 0
for n, line in enumerate(open(sys.argv[1]), 1):
    d = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", d["ts"]), (n, line)
    assert d["level"] in ("trace", "debug", "info", "warn", "error"), (n, line)
    assert isinstance(d["msg"], str)
    if d.get("outcome") == "done":
        handled += 1
        assert d["campaign_id"].startswith("p-") and d["message_id"] and d["queue"], line
        assert d["attempt"] >= 1 and d["duration_ms"] >= 0, line
print(f"{handled} handled-message JSON lines")
assert handled >= 60, handled
PY

# 7. SIGTERM: clean stop, then a fetcher whose provider fails: the API key never appears.
kill -TERM "$fetcher"
poll 30 "fetcher stopped" eval '! kill -0 '"$fetcher"' 2>/dev/null'
KEY="rk-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
start_fetcher secrets DRIPR_LOG_FORMAT=json DRIPR_LOG_LEVEL=debug DATA_PROVIDER=rentcast \
  RENTCAST_API_KEY="$KEY" RENTCAST_BASE_URL="http://127.0.0.1:$(free_port)/v1" RENTCAST_MAX_ATTEMPTS=1 \
  DRIPR_RETRY_BASE_MS=1
dripr campaign create --id s-1 --zip 02139 --address "1 Main St" --lat 42.36 --lng -71.10 \
  --current-value 500000 >/dev/null || fail "create s-1"
dripr campaign start s-1 >/dev/null || fail "start s-1"
poll 30 "a failed provider call logged" grep -q '"outcome":"retry"' "$E2E_TMP/secrets.log"
for f in "$E2E_TMP"/*.log; do
  grep -q -- "$KEY" "$f" && fail "the API key appears in $f"
done
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$E2E_TMP/secrets.log" \
  || fail "secrets.log has a line that is not JSON"
echo "OK"
