#!/usr/bin/env bash
# Issue 6: the data fetcher with DATA_PROVIDER=rentcast against the fake RentCast server
# (real HTTP on loopback): campaigns reach READY_TO_CREATE_EMAIL; a rejected key puts the
# campaign in ERROR with a clear error_text; the key never appears in any output.
source "$(dirname "$0")/lib.sh"
start_fake_rentcast
KEY=$FAKE_KEY

export DATABASE_URL="sqlite:$E2E_TMP/rc.db" EVENT_BUS=embedded DATA_PROVIDER=rentcast \
  RENTCAST_BASE_URL="$FAKE_URL" RENTCAST_MAX_RPS=50 DRIPR_LOG_LEVEL=debug
dripr migrate >/dev/null || fail "migrate"

# 1. A good key: campaigns complete with ranked listings and sales from the fake API.
start_fetcher good RENTCAST_API_KEY="$KEY"
dripr campaign create --id rc-home --zip 78723 --address "3821 Hargis St, Austin, TX 78723" \
  --lat 30.290643 --lng -97.701547 --current-value 650000 >/dev/null || fail "create rc-home"
dripr campaign create --id rc-news --zip 29611 >/dev/null || fail "create rc-news"
for id in rc-home rc-news; do dripr campaign start "$id" >/dev/null || fail "start $id"; done
poll 30 "rentcast campaigns ready" eval 'status_is rc-home READY_TO_CREATE_EMAIL && status_is rc-news READY_TO_CREATE_EMAIL'
dripr campaign show rc-home --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d["active_listings"]) >= 10 and len(d["recent_sales"]) >= 10, d
assert d["local_market_data"]["current"]["average_price"] > 0, d["local_market_data"]
print("rc-home:", len(d["active_listings"]), "listings,", len(d["recent_sales"]), "sales")
' || fail "rc-home contents"
kill -TERM "$FETCHER_PID"
wait "$FETCHER_PID" || fail "fetcher did not exit cleanly"

# 2. A rejected key: the campaign goes to ERROR with a clear reason, and the key is never printed.
BAD_KEY="bad-key-$RANDOM-$RANDOM"
start_fetcher bad RENTCAST_API_KEY="$BAD_KEY"
dripr campaign create --id rc-badkey --zip 78723 --lat 30.29 --lng -97.70 >/dev/null || fail "create rc-badkey"
dripr campaign start rc-badkey >/dev/null || fail "start rc-badkey"
poll 30 "rc-badkey in ERROR" status_is rc-badkey ERROR
error_text=$(dripr campaign show rc-badkey --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["error_text"])')
echo "error_text: $error_text"
[[ $error_text == *"API key"* ]] || fail "error_text does not explain the rejected key: $error_text"
dripr dlq list active_listings >"$E2E_TMP/dlq.out" || fail "dlq list"
kill -TERM "$FETCHER_PID"
wait "$FETCHER_PID" || true
for f in "$E2E_TMP"/good.log "$E2E_TMP"/bad.log "$E2E_TMP"/dlq.out; do
  grep -q -- "$KEY" "$f" && fail "the API key appears in $f"
  grep -q -- "$BAD_KEY" "$f" && fail "the rejected API key appears in $f"
done
echo "PASS"
