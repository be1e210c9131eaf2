#!/usr/bin/env bash
# Starts PostgreSQL, MariaDB and moto_server on loopback, runs every test of build dir $1 with
# ctest, and stops the servers whatever happens. `--unit-only` skips the e2e scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
ctest_args=(--test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900)
[[ ${1:-} == --unit-only ]] && ctest_args+=(-E '^e2e\.')

source scripts/test-servers.sh
trap stop_test_servers EXIT
start_postgres
start_mariadb
start_moto
ctest "${ctest_args[@]}"
