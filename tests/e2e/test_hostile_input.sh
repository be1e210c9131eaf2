#!/usr/bin/env bash
# Issue 13 "Hostile input": the corpus in tests/data/hostile/ (cases.tsv: name, kind, the
# substring the DLQ reason must hold) plus generated 200 KiB and 300 KiB bodies, published
# through BOTH buses (embedded, then SNS/SQS on a private moto_server) to a running fetcher.
# Kinds (docs/decisions/hostile-input.md):
#   dlq      passes the subscriptions' filter: must end in all three DLQs with the reason
#   filtered not JSON, so no filter can match: the topic drops it (embedded `publish` exits 1
#            "went nowhere"); on SQS it is also sent straight to every work queue, and must
#            end in the DLQs with the reason
#   refused  the publisher refuses it (exit non-zero, the reason on stderr) on both buses
# And in every case: the fetcher stays up, and no campaign changes (snapshot before/after);
# afterwards a new campaign still completes.
source "$(dirname "$0")/lib.sh"
corpus=${DRIPR_SOURCE_DIR:?}/tests/data/hostile
started=$SECONDS

# The generated cases: a body near the 256 KiB limit that is delivered, one above it.
python3 - "$E2E_TMP" <<'PY'
import json, sys
ev = {"event_type": "STATUS_CHANGE", "payload": {"zip_code": "02139", "to_status": "WAITING_FOR_DATA",
      "timestamp": "2026-11-29T10:00:00Z", "note": "hostile-large_body", "pad": "a" * 200_000}}
open(sys.argv[1] + "/large_body.json", "w").write(json.dumps(ev))
ev["payload"]["note"] = "hostile-oversized_body"
ev["payload"]["pad"] = "a" * 300_000
open(sys.argv[1] + "/oversized_body.json", "w").write(json.dumps(ev))
PY
cases=$E2E_TMP/cases.tsv
grep -v '^#' "$corpus/cases.tsv" >"$cases"
printf 'large_body\tdlq\tcampaign_id: missing\noversized_body\trefused\tat most 262144\n' >>"$cases"
case_file() { [[ -f $corpus/$1.json ]] && echo "$corpus/$1.json" || { [[ -f $corpus/$1.txt ]] && echo "$corpus/$1.txt"; } || echo "$E2E_TMP/$1.json"; }

snapshot() {  # everything a campaign shows, for the three campaigns the corpus aims at
  for id in c-target c-other c-ready; do dripr campaign show "$id" --json; done
  dripr campaign list --json
}

# The reasons in the three DLQs, as "queue<TAB>case<TAB>reason" lines.
dlq_reasons() {
  for q in local_market_data active_listings recent_sales; do
    dripr dlq list "$q" --json | python3 -c '
import json, re, sys
for m in json.load(sys.stdin):
    hit = re.search(r"hostile-([a-z0-9_]+)", m["body"])
    if hit:
        print(sys.argv[1], hit.group(1), m["reason"].replace("\t", " "), sep="\t")' "$q"
  done
}
# all_in_dlqs WANT — every case of kind dlq (and, on SQS, filtered) is in all three DLQs.
all_in_dlqs() {
  dlq_reasons >"$E2E_TMP/reasons.tsv"
  [[ $(cut -f1,2 "$E2E_TMP/reasons.tsv" | sort -u | wc -l) -ge $1 ]]
}

run_bus() {  # run_bus NAME — the whole scenario on the bus the environment selects
  local bus=$1 name kind expected file out rc want=0 fetcher
  dripr migrate >/dev/null || fail "$bus: migrate"
  dripr campaign create --id c-target --zip 02139 >/dev/null || fail "$bus: create c-target"
  dripr campaign create --id c-other --zip 30303 >/dev/null || fail "$bus: create c-other"
  dripr campaign create --id c-ready --zip 60601 >/dev/null || fail "$bus: create c-ready"
  start_fetcher "fetcher-$bus"
  fetcher=$FETCHER_PID
  dripr campaign start c-ready >/dev/null || fail "$bus: start c-ready"
  poll 30 "$bus: c-ready ready" status_is c-ready READY_TO_CREATE_EMAIL
  snapshot >"$E2E_TMP/before-$bus.json"

  while IFS=$'\t' read -r name kind expected; do
    file=$(case_file "$name")
    rc=0
    out=$(dripr publish --raw --file "$file" 2>&1 >/dev/null) || rc=$?
    case $kind in
      dlq)
        ((rc == 0)) || fail "$bus: publishing $name failed ($rc): $out"
        want=$((want + 3)) ;;
      filtered)
        if [[ $bus == embedded ]]; then
          ((rc == 1)) && [[ $out == *"went nowhere"* ]] || fail "$bus: $name was not dropped by the topic ($rc): $out"
        else
          python3 - "$file" <<'PY' || fail "$bus: sending $name straight to the queues"
import boto3, os, sys
body = open(sys.argv[1], "rb").read().decode()
sqs = boto3.client("sqs")
for var in ("SQS_LOCAL_MARKET_UPDATES_QUEUE_URL", "SQS_ACTIVE_LISTINGS_QUEUE_URL", "SQS_RECENT_SALES_QUEUE_URL"):
    sqs.send_message(QueueUrl=os.environ[var], MessageBody=body)
PY
          want=$((want + 3))
        fi ;;
      refused)
        ((rc != 0)) && [[ $out == *"$expected"* ]] || fail "$bus: $name not refused with \"$expected\" ($rc): $out" ;;
      *) fail "cases.tsv: unknown kind $kind" ;;
    esac
  done <"$cases"

  poll 40 "$bus: $want DLQ copies" all_in_dlqs "$want"
  while IFS=$'\t' read -r name kind expected; do
    [[ $kind == dlq || ($kind == filtered && $bus != embedded) ]] || continue
    for q in local_market_data active_listings recent_sales; do
      grep -qF "$q	$name	" "$E2E_TMP/reasons.tsv" || fail "$bus: $name not in the $q DLQ"
      grep -F "$q	$name	" "$E2E_TMP/reasons.tsv" | grep -qF -- "$expected" \
        || fail "$bus: $name in $q: reason lacks \"$expected\": $(grep -F "$q	$name	" "$E2E_TMP/reasons.tsv" | cut -f3 | head -1)"
    done
  done <"$cases"
  kill -0 "$fetcher" 2>/dev/null || fail "$bus: the fetcher died"
  snapshot >"$E2E_TMP/after-$bus.json"
  cmp -s "$E2E_TMP/before-$bus.json" "$E2E_TMP/after-$bus.json" \
    || fail "$bus: campaigns changed: $(diff "$E2E_TMP/before-$bus.json" "$E2E_TMP/after-$bus.json" | head -5)"
  # Still working: a real campaign completes after the corpus.
  dripr campaign start c-other >/dev/null || fail "$bus: start c-other"
  poll 30 "$bus: c-other ready after the corpus" status_is c-other READY_TO_CREATE_EMAIL
  echo "$bus: $(wc -l <"$cases") cases, $want DLQ copies with their reasons, campaigns unchanged, fetcher up ($((SECONDS - started)) s)"
}

# 1. The embedded default.
export DATABASE_URL="sqlite:$E2E_TMP/embedded.db" EVENT_BUS=embedded DATA_PROVIDER=sample
run_bus embedded
kill -TERM "$FETCHER_PID" && wait "$FETCHER_PID" || fail "embedded: the fetcher did not stop cleanly"

# 2. SNS/SQS on a private moto_server.
start_private_moto
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDE2ETESTKEY AWS_SECRET_ACCESS_KEY="e2e-secret-$RANDOM" \
  AWS_EC2_METADATA_DISABLED=true DATABASE_URL="sqlite:$E2E_TMP/aws.db" EVENT_BUS=aws \
  DRIPR_RECEIVE_WAIT_SECONDS=1
dripr infra up --env dev >"$E2E_TMP/env.lines" 2>"$E2E_TMP/infra.log" || fail "infra up"
set -a
source "$E2E_TMP/env.lines"
set +a
run_bus aws
echo "hostile input: both buses passed in $((SECONDS - started)) s"
