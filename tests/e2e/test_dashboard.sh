#!/usr/bin/env bash
# Issue 15 (dashboard): Debian's chromium, headless, driven by chromium-driver + python3-selenium
# against a running fetcher on the embedded default (tests/e2e/dashboard_browser.py does the
# clicking). Overview counts move while 200 campaigns flow; the campaigns table filters, pages
# and survives a reload; markup in a campaign id, an address and a message body renders as text
# and runs nothing; a dead letter is shown with its reason, an action without the token is
# refused, the redrive click moves it and the DLQ depth follows. Screenshots of every page go to
# $DRIPR_SCREENSHOT_DIR (default: build/dashboard-screenshots; not committed).
source "$(dirname "$0")/lib.sh"
export DATABASE_URL="sqlite:$E2E_TMP/e2e.db" EVENT_BUS=embedded DATA_PROVIDER=sample
# Debian's python3-selenium lives in the system interpreter (not in a pyenv/venv one on PATH).
py=/usr/bin/python3
[[ -x $py ]] || py=python3
command -v chromium >/dev/null && command -v chromedriver >/dev/null \
  && "$py" -c 'import selenium' 2>/dev/null \
  || fail "chromium, chromium-driver and python3-selenium are needed (scripts/install-deps.sh)"
shots=${DRIPR_SCREENSHOT_DIR:-$(dirname "$DRIPR_BIN")/dashboard-screenshots}
mkdir -p "$shots"

dripr migrate >/dev/null || fail "migrate"
zips=($(real_zips 201))
# Markup in an id (ids are printable ASCII without spaces) and in an address.
xss_id='<script>window.__xss=1</script>'
dripr campaign create --id "$xss_id" --zip "${zips[200]}" \
  --address '"><img src=x onerror="window.__xss=2">' --lat 42.36 --lng -71.1 >/dev/null \
  || fail "create the markup campaign"
{
  echo "id,zip"
  for i in $(seq 1 200); do printf 'dash-%03d,%s\n' "$i" "${zips[$((i - 1))]}"; done
} >"$E2E_TMP/campaigns.csv"

token=e2e-$RANDOM-token
start_fetcher fetcher DRIPR_LOG_FORMAT=json DRIPR_OPS_TOKEN="$token" DRIPR_SAMPLE_LATENCY_MS=100 \
  DRIPR_MAX_IN_FLIGHT=4 DRIPR_RETRY_BASE_MS=100
poll 20 "dashboard URL logged" grep -q '"dashboard: http' "$E2E_TMP/fetcher.log"
[[ $(grep -c 'dashboard: http' "$E2E_TMP/fetcher.log") -eq 1 ]] || fail "dashboard line not once"
url=$(grep -o 'dashboard: http://127\.0\.0\.1:[0-9]*' "$E2E_TMP/fetcher.log" | head -1)
url=${url#dashboard: }
grep -q "$token" "$E2E_TMP/fetcher.log" && fail "the token was logged"
echo "dashboard at $url/"

# Read endpoints never show the database URL or the token.
for p in /api/overview /api/campaigns /api/dead-letters "/api/campaign?id=dash-001"; do
  body=$(curl -s "$url$p")
  [[ $body != *"$E2E_TMP"* && $body != *"$token"* ]] || fail "$p shows a secret or the DB path"
done
# Actions: no token → 401; the token in a header → accepted; a cookie is not a token.
code=$(curl -s -o /dev/null -w '%{http_code}' -d '' "$url/api/dead-letters/redrive?queue=recent_sales")
[[ $code == 401 ]] || fail "POST without a token: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '' -H "Cookie: token=$token" \
  "$url/api/dead-letters/redrive?queue=recent_sales")
[[ $code == 401 ]] || fail "POST with the token in a cookie: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -d '' -H "Authorization: Bearer $token" \
  "$url/api/dead-letters/redrive?queue=recent_sales")
[[ $code == 200 ]] || fail "POST with the token: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/api/campaigns?limit=0")
[[ $code == 400 ]] || fail "bad limit: $code"

started=$SECONDS
DRIPR_BIN="$DRIPR_BIN" "$py" "$(dirname "$0")/dashboard_browser.py" "$url" "$token" "$shots" \
  "$E2E_TMP/campaigns.csv" "$xss_id" || fail "browser checks"
echo "browser checks took $((SECONDS - started)) s; screenshots in $shots"
kill -0 "$FETCHER_PID" 2>/dev/null || fail "the fetcher died"
echo "PASS"
