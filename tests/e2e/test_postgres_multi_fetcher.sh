#!/usr/bin/env bash
# Issue 5: three data fetchers on PostgreSQL + moto, PostgreSQL stopped for 5 s mid-run, rows
# identical to a single-process SQLite run (the scenario is multi_fetcher.sh).
E2E_DB=postgres
source "$(dirname "$0")/multi_fetcher.sh"
