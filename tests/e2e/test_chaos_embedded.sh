#!/usr/bin/env bash
# Issue 13: the chaos suite on the embedded default, SQLite + the embedded bus: three
# fetchers kill -9'd and restarted against a misbehaving provider (chaos.sh).
CHAOS_MODE=embedded
source "$(dirname "$0")/chaos.sh"
