#!/usr/bin/env bash
# Issue 12: `dripr infra up` adopts dripr's existing AWS resources. On a private moto:
# `infra up --dry-run` on an empty account changes nothing; boto3 then creates what dripr's
# Python services already have (a topic with another system's subscription, a work queue
# whose access policy carries another statement and whose subscription has no filter);
# `infra up` adopts them (named by the environment), leaves the foreign subscription and
# statement exactly as they were, and the pipeline runs through the adopted topic.
# Issue 11: a data fetcher refuses to start (exit 2, one line) when DRIPR_MAX_ATTEMPTS >= a
# queue's maxReceiveCount.
source "$(dirname "$0")/lib.sh"
start_private_moto
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDE2ETESTKEY AWS_SECRET_ACCESS_KEY="e2e-secret-$RANDOM$RANDOM" \
  AWS_EC2_METADATA_DISABLED=true DATABASE_URL="sqlite:$E2E_TMP/adopt.db" DRIPR_RECEIVE_WAIT_SECONDS=1

account_is_empty() {
  python3 - <<'PY'
import boto3, sys
topics = boto3.client("sns").list_topics().get("Topics", [])
queues = boto3.client("sqs").list_queues().get("QueueUrls", [])
sys.exit(0 if not topics and not queues else f"not empty: {topics} {queues}")
PY
}

# 1. A dry run on an empty account: a full plan of creations, nothing created.
dripr infra up --env dev --dry-run >"$E2E_TMP/dry.out" 2>"$E2E_TMP/dry.log" || fail "infra up --dry-run"
grep -q '^create  topic         dripr-campaign-events-topic-dev$' "$E2E_TMP/dry.out" || fail "dry run plan: $(cat "$E2E_TMP/dry.out")"
[[ $(grep -c '^create ' "$E2E_TMP/dry.out") -eq 13 ]] || fail "dry run should plan 13 creations: $(cat "$E2E_TMP/dry.out")"
grep -q 'nothing was changed' "$E2E_TMP/dry.log" || fail "dry run does not say it changed nothing"
dry_json=$(dripr infra up --env dev --dry-run --json) || fail "infra up --dry-run --json"
[[ $(json_get "$dry_json" 'd["dry_run"] and len(d["plan"]) == 13 and d["env"] == {}') == True ]] || fail "dry-run JSON: $dry_json"
account_is_empty || fail "the dry run created something"

# 2. What dripr's Python services already have (created as they would, by boto3).
python3 >"$E2E_TMP/foreign.env" <<'PY' || fail "creating the foreign resources"
import boto3, json
sns, sqs = boto3.client("sns"), boto3.client("sqs")
topic = sns.create_topic(Name="dripr-campaign-events")["TopicArn"]
tap = sqs.create_queue(QueueName="analytics-tap")["QueueUrl"]
tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn, ReturnSubscriptionArn=True,
              Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"event_type": ["STATUS_CHANGE"]})})
market = sqs.create_queue(QueueName="local-market-data")["QueueUrl"]
market_arn = sqs.get_queue_attributes(QueueUrl=market, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
policy = {"Version": "2012-10-17", "Statement": [{
    "Sid": "PythonPollerSend", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/poller"},
    "Action": "sqs:SendMessage", "Resource": market_arn}]}
sqs.set_queue_attributes(QueueUrl=market, Attributes={"Policy": json.dumps(policy)})
# The queue was subscribed by hand long ago, without a filter.
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=market_arn, ReturnSubscriptionArn=True)
print(f"SNS_CAMPAIGN_EVENTS_TOPIC_ARN={topic}")
print(f"SQS_LOCAL_MARKET_UPDATES_QUEUE_URL={market}")
PY
set -a
source "$E2E_TMP/foreign.env"
set +a

snapshot() {  # the foreign subscription's attributes and the foreign policy statement
  python3 - "$SNS_CAMPAIGN_EVENTS_TOPIC_ARN" "$SQS_LOCAL_MARKET_UPDATES_QUEUE_URL" <<'PY'
import boto3, json, sys
sns, sqs = boto3.client("sns"), boto3.client("sqs")
subs = sns.list_subscriptions_by_topic(TopicArn=sys.argv[1])["Subscriptions"]
tap = [s for s in subs if s["Endpoint"].endswith(":analytics-tap")]
assert len(tap) == 1, subs
attrs = sns.get_subscription_attributes(SubscriptionArn=tap[0]["SubscriptionArn"])["Attributes"]
policy = json.loads(sqs.get_queue_attributes(QueueUrl=sys.argv[2], AttributeNames=["Policy"])["Attributes"]["Policy"])
foreign = [s for s in policy["Statement"] if s.get("Sid") == "PythonPollerSend"]
print(json.dumps({"sub": {k: attrs.get(k) for k in ("SubscriptionArn", "Endpoint", "RawMessageDelivery", "FilterPolicy", "FilterPolicyScope")},
                  "statement": foreign}, sort_keys=True))
PY
}
snapshot >"$E2E_TMP/before.json" || fail "snapshot before"

# 3. The plan for adopting them, then the adoption.
plan=$(dripr infra up --env dev --dry-run --json) || fail "adoption dry run"
[[ $(json_get "$plan" '[(s["action"], s["resource"], s["name"]) for s in d["plan"][:5]]') == \
   "[('reuse', 'topic', 'dripr-campaign-events'), ('create', 'dlq', 'local-market-data-dlq'), ('change', 'queue', 'local-market-data'), ('change', 'queue policy', 'local-market-data'), ('change', 'subscription', 'local-market-data')]" ]] \
  || fail "adoption plan: $plan"
dripr infra up --env dev >"$E2E_TMP/env.lines" 2>"$E2E_TMP/infra.log" || fail "infra up (adopting)"
grep -qx "SNS_CAMPAIGN_EVENTS_TOPIC_ARN=$SNS_CAMPAIGN_EVENTS_TOPIC_ARN" "$E2E_TMP/env.lines" || fail "a new topic was created: $(cat "$E2E_TMP/env.lines")"
grep -qx "SQS_LOCAL_MARKET_UPDATES_QUEUE_URL=$SQS_LOCAL_MARKET_UPDATES_QUEUE_URL" "$E2E_TMP/env.lines" || fail "the queue was not reused"
snapshot >"$E2E_TMP/after.json" || fail "snapshot after"
cmp -s "$E2E_TMP/before.json" "$E2E_TMP/after.json" || fail "foreign subscription or statement changed: $(cat "$E2E_TMP/before.json" "$E2E_TMP/after.json")"
python3 - "$SNS_CAMPAIGN_EVENTS_TOPIC_ARN" "$SQS_LOCAL_MARKET_UPDATES_QUEUE_URL" <<'PY' || fail "adopted resources not as expected"
import boto3, json, sys
sns, sqs = boto3.client("sns"), boto3.client("sqs")
a = sqs.get_queue_attributes(QueueUrl=sys.argv[2], AttributeNames=["All"])["Attributes"]
sids = sorted(s["Sid"] for s in json.loads(a["Policy"])["Statement"])
assert sids == ["AllowCampaignEventsTopic", "PythonPollerSend"], sids
assert json.loads(a["RedrivePolicy"])["deadLetterTargetArn"].endswith(":local-market-data-dlq"), a
subs = [s for s in sns.list_subscriptions_by_topic(TopicArn=sys.argv[1])["Subscriptions"]
        if s["Endpoint"] == a["QueueArn"]]
assert len(subs) == 1, subs
attrs = sns.get_subscription_attributes(SubscriptionArn=subs[0]["SubscriptionArn"])["Attributes"]
assert attrs.get("FilterPolicyScope") == "MessageBody", attrs
assert json.loads(attrs["FilterPolicy"]) == {"payload": {"to_status": ["WAITING_FOR_DATA"]}}, attrs
assert len(sns.list_topics()["Topics"]) == 1
PY
dripr infra status --env dev >"$E2E_TMP/status.out" || fail "infra status on the adopted resources: $(cat "$E2E_TMP/status.out")"
grep -q '^topic dripr-campaign-events arn:' "$E2E_TMP/status.out" || fail "status does not show the adopted topic: $(cat "$E2E_TMP/status.out")"
grep -q '^local-market-data ' "$E2E_TMP/status.out" || fail "status does not show the adopted queue: $(cat "$E2E_TMP/status.out")"
again=$(dripr infra up --env dev --dry-run --json) || fail "dry run after adoption"
[[ $(json_get "$again" 'sorted({s["action"] for s in d["plan"]})') == "['reuse']" ]] || fail "not converged: $again"

# 4. A fetcher whose DRIPR_MAX_ATTEMPTS the broker's redrive would pre-empt refuses to start.
set -a
source "$E2E_TMP/env.lines"
set +a
dripr migrate >/dev/null || fail "migrate"
rc=0
DRIPR_MAX_ATTEMPTS=5 "$DRIPR_BIN" data-fetcher >"$E2E_TMP/refused.out" 2>"$E2E_TMP/refused.err" || rc=$?
[[ $rc -eq 2 ]] || fail "fetcher with DRIPR_MAX_ATTEMPTS=5 exited $rc, want 2: $(cat "$E2E_TMP/refused.err")"
# One line of reason (besides the ordinary log lines, e.g. the credentials used: JSON objects off a terminal).
[[ $(grep -cv -e '^{"ts":' -e '^\[\?[0-9]\{4\}-[0-9][0-9]-' "$E2E_TMP/refused.err") -eq 1 ]] || fail "want one line: $(cat "$E2E_TMP/refused.err")"
grep -q "^dripr: DRIPR_MAX_ATTEMPTS=5 must be below maxReceiveCount 5 of queue local-market-data's RedrivePolicy" \
  "$E2E_TMP/refused.err" || fail "refusal: $(cat "$E2E_TMP/refused.err")"

# 5. The pipeline through the adopted topic and queue.
start_fetcher fetcher EVENT_BUS=aws
start_campaigns adopt 3
poll 60 "campaigns ready through the adopted topic" all_in_status 3 READY_TO_CREATE_EMAIL
stop_fetcher
grep -q "RedrivePolicy skipped" "$E2E_TMP/fetcher.log" && fail "the start-up check could not run"
for f in "$E2E_TMP"/*.log "$E2E_TMP"/*.lines "$E2E_TMP"/*.err; do
  grep -q -- "$AWS_SECRET_ACCESS_KEY" "$f" && fail "the AWS secret key appears in $f"
done
echo "PASS"
