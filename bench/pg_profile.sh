#!/usr/bin/env bash
# What the data fetcher costs per campaign on PostgreSQL + embedded bus (docs/benchmarks.md,
# "Profiling the PostgreSQL path"): a throw-away PostgreSQL cluster with pg_stat_statements,
# `dripr migrate`, a data-fetcher (embedded bus in its own SQLite file), N campaigns imported and
# started by `dripr campaign import --start`, until all are finished. Prints per campaign the
# fetcher's CPU, its context switches and socket sends/receives (perf stat on the fetcher: one
# send per round trip to the server, two for a COPY), the statements the server ran (every
# client, the import included), the server's and the import's CPU and campaigns/s; then the
# statements called for at least 1 campaign in 100, by calls (pg_stat_statements). A
# PGPROFILE_SWITCHES line splits the fetcher's context switches per campaign by thread name
# (role:queue, cut to 15 bytes). These counts are repeatable on a loaded machine; the wall
# time is not.
#   bench/pg_profile.sh [BUILD_DIR] [N] [--record]
# --record also runs the fetcher under `perf record` (BUILD_DIR/pg-profile/perf.data; read it
# with `perf report -i …`); PG_PROFILE_RECORD replaces its options (default "-F 999"), e.g.
# "-e sched:sched_switch -g" for where the fetcher's threads block. Needs perf (linux-perf) and the PostgreSQL server packages.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
n=${2:-1000}
record=${3:-}
[[ $n =~ ^[0-9]+$ && $n -ge 1 ]] || { echo "usage: bench/pg_profile.sh [BUILD_DIR] [N] [--record]" >&2; exit 2; }
[[ -z $record || $record == --record ]] || { echo "usage: bench/pg_profile.sh [BUILD_DIR] [N] [--record]" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf not found (apt-get install linux-perf)" >&2; exit 2; }
dripr=$(realpath "$build/dripr")
out=$(realpath -m "$build/pg-profile")
rm -rf "$out" && mkdir -p "$out"

source scripts/test-servers.sh
trap stop_test_servers EXIT
start_postgres >/dev/null
pg_server_stop
DRIPR_TEST_PG_OPTS+=" -c shared_preload_libraries=pg_stat_statements"
pg_server_start
url=$DRIPR_TEST_PG_URL
q() { psql -X -q -At -d "$url" -c "$1"; }

export DATABASE_URL=$url EMBEDDED_BUS_PATH=$out/bus.db DRIPR_LOG_FORMAT=json DRIPR_OPS_ADDR=off
"$dripr" migrate >/dev/null
q "CREATE EXTENSION pg_stat_statements"
python3 -c 'import sys; sys.path.insert(0, "bench"); import run_bench; run_bench.campaigns_csv(sys.argv[1], int(sys.argv[2]), "pp")' \
  "$out/campaigns.csv" "$n"

if [[ -n $record ]]; then
  # shellcheck disable=SC2086 # PG_PROFILE_RECORD: extra perf record options, word-split
  perf record ${PG_PROFILE_RECORD:--F 999} -o "$out/perf.data" -- "$dripr" data-fetcher >"$out/fetcher.log" 2>&1 &
else
  "$dripr" data-fetcher >"$out/fetcher.log" 2>&1 &
fi
runner=$!
wait_for 60 "data-fetcher start" grep -q 'data-fetcher started' "$out/fetcher.log"
fetcher=$(pgrep -P "$runner" -x dripr || echo "$runner")

# The server's CPU: the postmaster's own and its reaped children's, plus its live children's.
postmaster=$(head -1 "$DRIPR_TEST_PG_DATA/postmaster.pid")
server_cpu() {
  { cat "/proc/$postmaster/stat"; for c in $(pgrep -P "$postmaster"); do cat "/proc/$c/stat" 2>/dev/null || true; done; } |
    awk -v pm="$postmaster" '{ t += $14 + $15; if ($1 == pm) t += $16 + $17 } END { print t }'
}
q "SELECT pg_stat_statements_reset()" >/dev/null
# The fetcher's context switches by thread name (core/thread_name.h: role and queue), voluntary
# (blocked) + involuntary (preempted): "NAME COUNT" lines, summed over the threads of a name.
thread_switches() {
  for t in /proc/"$fetcher"/task/*; do
    { printf '%s ' "$(cat "$t/comm")"; awk '/ctxt_switches/ { s += $2 } END { print s }' "$t/status"; } 2>/dev/null || true
  done | awk '{ s[$1] += $2 } END { for (k in s) print k, s[k] }'
}
cpu0=$(awk '{print $14 + $15}' "/proc/$fetcher/stat")
thread_switches >"$out/switches0.txt"
server0=$(server_cpu)
perf stat -e context-switches,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom \
  -p "$fetcher" -o "$out/perf-stat.txt" &
counting=$!
t0=$(date +%s.%N)
TIMEFORMAT='%U %S'
{ time "$dripr" campaign import "$out/campaigns.csv" --start >/dev/null; } 2>"$out/import-time.txt"
# Waits inside the server, one backend checking every 50 ms: a psql poll would start a
# backend each time, ~6 ms of the server's CPU, which grew the measured server CPU per
# campaign by 0.1-0.2 ms (more on a slower run). Its statements are not counted below.
done_sql="(SELECT count(*) FROM campaigns WHERE campaign_status IN ('READY_TO_CREATE_EMAIL', 'ERROR')) >= $n"
q "/* pg_profile wait */ DO \$\$ DECLARE deadline timestamptz := clock_timestamp() + interval '900 s';
   BEGIN WHILE NOT ($done_sql) AND clock_timestamp() < deadline LOOP PERFORM pg_sleep(0.05);
   END LOOP; END \$\$"
[[ $(q "/* pg_profile wait */ SELECT $done_sql") == t ]] || { echo "timed out waiting for $n campaigns finished" >&2; exit 1; }
t1=$(date +%s.%N)
cpu1=$(awk '{print $14 + $15}' "/proc/$fetcher/stat")
thread_switches >"$out/switches1.txt"
server1=$(server_cpu)
kill -INT "$counting" && wait "$counting" || true
# The relay marks the last READY events published shortly after.
published() { [[ $(q "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0 ]]; }
wait_for 30 "outbox published" published
kill -TERM "$runner" && wait "$runner" || true

# Calls and the server's time inside them (total_exec_time, ms), every statement but ours here.
read -r statements exec_ms < <(q "SELECT sum(calls) || ' ' || round(sum(total_exec_time)::numeric, 1)
                FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%'
                AND query NOT LIKE '%pg_profile wait%'
                AND query NOT LIKE 'SELECT count(*) FROM outbox WHERE published_at IS NULL%'")
awk -v n="$n" -v secs="$(echo "$t1 - $t0" | bc)" -v cpu="$(echo "$cpu1 - $cpu0" | bc)" \
  -v hz="$(getconf CLK_TCK)" -v st="$statements" -v server="$(echo "$server1 - $server0" | bc)" \
  -v import="$(awk '{print $1 + $2}' "$out/import-time.txt")" -v exec_ms="$exec_ms" '
  /context-switches/ { gsub(",", "", $1); cs = $1 }
  /sys_enter_sendto/ { gsub(",", "", $1); snd = $1 }
  /sys_enter_recvfrom/ { gsub(",", "", $1); rcv = $1 }
  END {
    printf "PGPROFILE campaigns=%d per_s=%.1f fetcher_cpu_ms_per_campaign=%.2f " \
           "context_switches_per_campaign=%.1f sends_per_campaign=%.2f " \
           "receives_per_campaign=%.2f statements_per_campaign=%.2f " \
           "server_cpu_ms_per_campaign=%.2f server_exec_ms_per_campaign=%.3f " \
           "import_cpu_ms_per_campaign=%.2f\n",
           n, n / secs, 1000 * cpu / hz / n, cs / n, snd / n, rcv / n, st / n,
           1000 * server / hz / n, exec_ms / n, 1000 * import / n
  }' "$out/perf-stat.txt"
# Switches per campaign by thread name, most first (threads started during the run count from 0).
awk -v n="$n" 'NR == FNR { s0[$1] = $2; next } { d = ($2 - s0[$1]) / n; if (d >= 0.05) printf "%.2f %s\n", d, $1 }' \
  "$out/switches0.txt" "$out/switches1.txt" | sort -rn |
  awk '{ line = line sprintf(" %s=%s", $2, $1) } END { print "PGPROFILE_SWITCHES" line }'
q "SELECT round(calls::numeric / $n, 2) || E'\t' || round((1000 * mean_exec_time)::numeric, 1) || ' us' || E'\t' || left(regexp_replace(query, '\s+', ' ', 'g'), 70) || ' … ' ||
          right(regexp_replace(query, '\s+', ' ', 'g'), 40)
   FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
   WHERE d.datname = current_database() AND calls >= $n / 100 ORDER BY calls DESC, query"
