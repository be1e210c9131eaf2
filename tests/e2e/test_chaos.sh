#!/usr/bin/env bash
# Issue 13: the chaos suite on the production shape, PostgreSQL + SNS/SQS on moto_server,
# three fetchers, kills, a database outage, a broker outage and a misbehaving provider (the
# scenario and its checks are in chaos.sh). CHAOS_SEED=N replays a run.
CHAOS_MODE=network
source "$(dirname "$0")/chaos.sh"
