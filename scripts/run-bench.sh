#!/usr/bin/env bash
# Builds bench/part_rows_bench in build dir $1 (default build) and runs it with the remaining
# arguments against a throw-away PostgreSQL cluster on a free loopback port, stopped whatever
# happens. With DRIPR_BENCH_PG_URL set, that server is used instead and none is started.
#   scripts/run-bench.sh build --sweep
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
if [[ $# -gt 0 && $1 != -* ]]; then  # `run-bench.sh --sweep` keeps the default build dir
  build=$1
  shift
fi

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target part_rows_bench

if [[ -z ${DRIPR_BENCH_PG_URL:-} ]]; then
  source scripts/test-servers.sh
  trap stop_test_servers EXIT
  start_postgres
fi
"$build"/bench/part_rows_bench "$@"
