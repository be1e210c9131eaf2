# Shared helpers for the e2e scripts: they drive the real `dripr` binary as separate
# processes. Sourced; expects DRIPR_BIN (set by ctest).
set -euo pipefail

: "${DRIPR_BIN:?DRIPR_BIN must point at the dripr binary}"
E2E_TMP=$(mktemp -d /tmp/dripr-e2e.XXXXXX)
E2E_PIDS=()
E2E_CLEANUP_HOOKS=()  # commands run at exit, after the processes are killed

e2e_cleanup() {
  local pid hook
  for pid in "${E2E_PIDS[@]:-}"; do
    [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null || true
  done
  for hook in "${E2E_CLEANUP_HOOKS[@]:-}"; do
    [[ -n $hook ]] && $hook || true
  done
  if [[ -n ${E2E_KEEP:-} ]]; then echo "e2e files kept in $E2E_TMP" >&2; else rm -rf "$E2E_TMP"; fi
}
trap e2e_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$E2E_TMP"/*.log; do
    [[ -f $f ]] && { echo "--- $f (tail)" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

dripr() { "$DRIPR_BIN" "$@"; }

# json_get JSON PYTHON_EXPR   (the parsed document is `d`)
json_get() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# poll SECONDS DESCRIPTION COMMAND... — retries COMMAND until it succeeds or time runs out.
poll() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after waiting for: $what"
    sleep 0.1
  done
}

# start_fetcher NAME [ENV=VAL...] — starts `dripr data-fetcher` in the background; its pid
# is left in FETCHER_PID and its log in $E2E_TMP/NAME.log.
start_fetcher() {
  local name=$1
  shift
  # Text logs (the scripts grep the human-readable lines) and an ops server on a free port
  # (several fetchers run side by side), unless the caller asks otherwise.
  env DRIPR_LOG_FORMAT=text DRIPR_OPS_ADDR=127.0.0.1:0 "$@" "$DRIPR_BIN" data-fetcher >"$E2E_TMP/$name.log" 2>&1 &
  FETCHER_PID=$!
  E2E_PIDS+=("$FETCHER_PID")
}

# stop_fetcher [WHAT] — SIGTERM to the fetcher FETCHER_PID; fails (saying WHAT) unless it
# exits 0.
stop_fetcher() {
  kill -TERM "$FETCHER_PID"
  wait "$FETCHER_PID" || fail "${1:-fetcher exit code on SIGTERM}"
}

# start_private_moto — a moto_server of this script's own on a free loopback port (MOTO_PORT,
# MOTO_PID), so that stopping it disturbs no other test. Called again after a kill, it
# restarts on the same port, empty.
start_private_moto() {
  MOTO_PORT=${MOTO_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
  moto_server -H 127.0.0.1 -p "$MOTO_PORT" >>"$E2E_TMP/moto.log" 2>&1 &
  MOTO_PID=$!
  E2E_PIDS+=("$MOTO_PID")
  poll 60 "moto_server up" moto_up
}
moto_up() { curl -fsS -o /dev/null -X POST "http://127.0.0.1:$MOTO_PORT/moto-api/reset" 2>/dev/null; }

# start_private_postgres — a PostgreSQL cluster of this script's own (scripts/test-servers.sh:
# DRIPR_TEST_PG_URL, pg_server_stop, pg_server_start), removed at exit.
start_private_postgres() {
  # shellcheck source=../../scripts/test-servers.sh
  source "${DRIPR_SOURCE_DIR:?}/scripts/test-servers.sh"
  E2E_CLEANUP_HOOKS+=(stop_test_servers)
  start_postgres >/dev/null || fail "could not start a PostgreSQL cluster"
}

# start_private_mariadb — a MariaDB server of this script's own (scripts/test-servers.sh:
# DRIPR_TEST_MYSQL_URL, mariadb_server_stop, mariadb_server_start), removed at exit.
start_private_mariadb() {
  # shellcheck source=../../scripts/test-servers.sh
  source "${DRIPR_SOURCE_DIR:?}/scripts/test-servers.sh"
  E2E_CLEANUP_HOOKS+=(stop_test_servers)
  start_mariadb >/dev/null || fail "could not start a MariaDB server"
}

# real_zips N — N real zip codes spread over the centroid table.
real_zips() {
  python3 - "$1" "${DRIPR_SOURCE_DIR:?}/data/zip_codes.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
zips = [l.split(",")[0] for l in open(path).read().splitlines()[1:]]
step = len(zips) // n
print("\n".join(zips[i * step + 3] for i in range(n)))
PY
}

# spread_campaigns N PREFIX ROW — "ID ZIP LAT LNG" lines, one campaign per zip code spread
# over the centroid table (from row ROW of each stride); every third is a no-address
# newsletter (LAT and LNG "-": searched around the zip centroid), the others have a
# property near the centroid.
spread_campaigns() {
  python3 - "$1" "$2" "$3" "${DRIPR_SOURCE_DIR:?}/data/zip_codes.csv" <<'PY'
import sys
n, prefix, row, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = [l.split(",") for l in open(path).read().splitlines()[1:]]
step = len(rows) // n
for i in range(n):
    z, lat, lng = rows[i * step + row]
    if i % 3 == 2:
        print(f"{prefix}-{i:03d} {z} - -")
    else:
        print(f"{prefix}-{i:03d} {z} {float(lat) + 0.004:.5f} {float(lng) - 0.003:.5f}")
PY
}

# create_and_start ID ZIP LAT|- LNG|- — a campaign created and started from the CLI
# (exported: xargs runs it in parallel).
create_and_start() {
  local where=()
  [[ $3 != - ]] && where=(--lat "$3" --lng "$4" --address "$1 Test Rd")
  "$DRIPR_BIN" campaign create --id "$1" --zip "$2" "${where[@]}" >/dev/null || return 1
  "$DRIPR_BIN" campaign start "$1" >/dev/null
}
export -f create_and_start

# start_campaigns PREFIX N [LAT LNG] — campaigns PREFIX-1 … PREFIX-N in zip 02139 with a
# property at LAT,LNG (default 42.3651,-71.104), created and started from the CLI.
start_campaigns() {
  local prefix=$1 n=$2 lat=${3:-42.3651} lng=${4:--71.104} i
  for ((i = 1; i <= n; i++)); do
    dripr campaign create --id "$prefix-$i" --zip 02139 --lat "$lat" --lng "$lng" >/dev/null || fail "create $prefix-$i"
    dripr campaign start "$prefix-$i" >/dev/null || fail "start $prefix-$i"
  done
}

campaign_status() { dripr campaign show "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["campaign_status"])'; }
status_is() { [[ $(campaign_status "$1") == "$2" ]]; }

count_in_status() {  # count_in_status STATUS
  dripr campaign list --status "$1" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}
all_in_status() { [[ $(count_in_status "$2") -eq $1 ]]; }

# start_fake_rentcast [ARG...] — the fake RentCast server (tests/fakes) on a free loopback
# port, with real zip codes, a random API key and ARGs (e.g. --chaos SPEC): sets FAKE_KEY and
# FAKE_URL (without /v1); its output goes to $E2E_TMP/fake.out and fake.log.
start_fake_rentcast() {
  local fake="${DRIPR_BUILD_DIR:?}/tests/fake_rentcast"
  [[ -x $fake ]] || fail "fake_rentcast not built at $fake"
  FAKE_KEY="e2e-key-$RANDOM-$RANDOM"
  "$fake" --port 0 --api-key "$FAKE_KEY" --zip-data "${DRIPR_SOURCE_DIR:?}/data/zip_codes.csv" \
    "$@" >"$E2E_TMP/fake.out" 2>"$E2E_TMP/fake.log" &
  E2E_PIDS+=($!)
  poll 10 "fake RentCast listening" grep -qs "listening on" "$E2E_TMP/fake.out"
  FAKE_URL="http://127.0.0.1:$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' "$E2E_TMP/fake.out")"
}
