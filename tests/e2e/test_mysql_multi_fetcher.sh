#!/usr/bin/env bash
# Issue 12: three data fetchers on MariaDB + moto, MariaDB stopped for 5 s mid-run, rows
# identical to a single-process SQLite run (the scenario is multi_fetcher.sh).
E2E_DB=mysql
source "$(dirname "$0")/multi_fetcher.sh"
