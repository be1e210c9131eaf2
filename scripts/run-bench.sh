#!/usr/bin/env bash
# `make bench`: every scenario of docs/benchmarks.md beside its baseline, in one run (about
# 10-15 min on a 2-core machine). Builds what it needs in build dir $1 (default build), starts
# a throw-away PostgreSQL cluster and moto_server on free loopback ports (stopped whatever
# happens), and runs bench/run_bench.py; the final table is also written to
# BUILD/bench-results.txt.
#   scripts/run-bench.sh [BUILD] [--runs N] [--only B1,B2,B2PG,B3,B5] [--smoke]
#   scripts/run-bench.sh [BUILD] part-rows [ARGS...]   # bench/part_rows_bench (PostgreSQL)
# With DRIPR_BENCH_PG_URL set, that PostgreSQL server is used and none is started.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
if [[ $# -gt 0 && $1 != -* && $1 != part-rows ]]; then  # `run-bench.sh --smoke` keeps the default
  build=$1
  shift
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi

if [[ ${1:-} == part-rows ]]; then
  shift
  cmake --build "$build" --target part_rows_bench
  if [[ -z ${DRIPR_BENCH_PG_URL:-} ]]; then
    source scripts/test-servers.sh
    trap stop_test_servers EXIT
    start_postgres
  fi
  exec "$build"/bench/part_rows_bench "$@"
fi

cmake --build "$build" --target dripr sqlite_ceiling pg_ceiling skip_locked_poller wake_chain fake_rentcast
# B5's comparison: the sqs-consumer npm package, pinned by bench/node/package-lock.json.
if [[ ! -d bench/node/node_modules/sqs-consumer ]]; then
  npm ci --prefix bench/node --no-audit --no-fund >/dev/null || echo "npm ci failed: B5 will say so" >&2
fi
source scripts/test-servers.sh
trap stop_test_servers EXIT
if [[ -n ${DRIPR_BENCH_PG_URL:-} ]]; then
  export DRIPR_TEST_PG_URL=$DRIPR_BENCH_PG_URL
else
  start_postgres >/dev/null
fi
start_moto >/dev/null
python3 bench/run_bench.py --build "$build" --out "$build/bench-results.txt" "$@"
