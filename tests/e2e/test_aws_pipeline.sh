#!/usr/bin/env bash
# Issue 4: SQLite + SNS/SQS on moto_server. `dripr infra up`, a data fetcher with
# EVENT_BUS=aws; campaigns started from the CLI and by a boto3 producer that publishes
# exactly like the Python db_client (no message attributes, SNS envelope delivery) reach
# READY_TO_CREATE_EMAIL; the events we publish decode in Python; a broker outage is survived.
source "$(dirname "$0")/lib.sh"
# A private moto for this script (the outage below restarts it), on a free port.
start_private_moto
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDE2ETESTKEY AWS_SECRET_ACCESS_KEY="e2e-secret-$RANDOM$RANDOM" \
  AWS_EC2_METADATA_DISABLED=true DATABASE_URL="sqlite:$E2E_TMP/aws.db" DRIPR_RECEIVE_WAIT_SECONDS=2

dripr infra up --env dev >"$E2E_TMP/env.lines" 2>"$E2E_TMP/infra.log" || fail "infra up"
dripr infra up --env dev >"$E2E_TMP/env2.lines" 2>>"$E2E_TMP/infra.log" || fail "second infra up"
cmp -s "$E2E_TMP/env.lines" "$E2E_TMP/env2.lines" || fail "infra up is not idempotent"
grep -q '^EVENT_BUS=aws$' "$E2E_TMP/env.lines" || fail "infra up printed no EVENT_BUS line"
set -a
source "$E2E_TMP/env.lines"
set +a
dripr infra status --env dev >"$E2E_TMP/status.out" || fail "infra status"
grep -q "complete" "$E2E_TMP/status.out" || fail "infra status not complete"
dripr migrate >/dev/null || fail "migrate"

# A tap queue on the topic (no filter, envelope delivery) to read what we publish.
python3 - "$SNS_CAMPAIGN_EVENTS_TOPIC_ARN" <<'PY' || fail "tap queue"
import boto3, sys
sqs, sns = boto3.client("sqs"), boto3.client("sns")
url = sqs.create_queue(QueueName="e2e-tap")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sns.subscribe(TopicArn=sys.argv[1], Protocol="sqs", Endpoint=arn)
PY

start_fetcher fetcher EVENT_BUS=aws
fetcher=$FETCHER_PID

# 1. Started from the CLI.
start_campaigns cli 3

# 2. Started by the Python producer: it writes the row, then publishes the bare event.
dripr campaign create --id py-1 --zip 30303 >/dev/null || fail "create py-1"
python3 - "${DATABASE_URL#sqlite:}" "$SNS_CAMPAIGN_EVENTS_TOPIC_ARN" <<'PY' || fail "python producer"
import boto3, json, sqlite3, sys
from datetime import datetime, timezone
db = sqlite3.connect(sys.argv[1])
db.execute("""update campaigns set campaign_status='WAITING_FOR_DATA', data_cycle=data_cycle+1,
              local_market_data_status='WAITING_FOR_DATA', active_listing_status='WAITING_FOR_DATA',
              recent_sale_status='WAITING_FOR_DATA' where id='py-1'""")
db.commit()
event = {"event_type": "STATUS_CHANGE",
         "payload": {"campaign_id": "py-1", "zip_code": "30303", "from_status": "DORMANT",
                     "to_status": "WAITING_FOR_DATA",
                     "timestamp": datetime.now(timezone.utc).replace(tzinfo=None).isoformat()}}
boto3.client("sns").publish(TopicArn=sys.argv[2], Message=json.dumps(event))
PY
poll 60 "CLI and Python campaigns ready" all_in_status 4 READY_TO_CREATE_EMAIL

# 3. What we published decodes in Python with the producer's schema.
python3 - <<'PY' || fail "our events do not decode in Python"
import boto3, json
from datetime import datetime
sqs = boto3.client("sqs")
url = sqs.get_queue_url(QueueName="e2e-tap")["QueueUrl"]
seen = {}
for _ in range(20):
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    for m in msgs:
        env = json.loads(m["Body"])
        assert env["Type"] == "Notification", env
        ev = json.loads(env["Message"])
        assert ev["event_type"] == "STATUS_CHANGE"
        p = ev["payload"]
        for k in ("campaign_id", "zip_code", "from_status", "to_status", "timestamp"):
            assert isinstance(p[k], str), (k, p)
        datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
        seen.setdefault(p["campaign_id"], []).append(p["to_status"])
    if all("READY_TO_CREATE_EMAIL" in seen.get(c, []) for c in ("cli-1", "cli-2", "cli-3", "py-1")):
        break
for c in ("cli-1", "cli-2", "cli-3", "py-1"):
    assert seen.get(c, []).count("READY_TO_CREATE_EMAIL") == 1, (c, seen.get(c))
print("decoded in Python:", {c: v for c, v in sorted(seen.items())})
PY

# 4. Broker outage: moto stopped for 10 s while campaigns are started, then restarted
#    (empty: `infra up` again is the recovery). The fetcher keeps running; all complete.
kill "$MOTO_PID"
wait "$MOTO_PID" 2>/dev/null || true
# A fetcher that starts while the broker is unreachable says so clearly and keeps retrying.
kill -TERM "$fetcher"
wait "$fetcher" || fail "fetcher exit code on SIGTERM with the broker down"
start_fetcher fetcher-broker-down EVENT_BUS=aws
fetcher=$FETCHER_PID
start_campaigns outage 3 42.36 -71.10
sleep 10  # the outage being simulated: the broker stays down this long
kill -0 "$fetcher" 2>/dev/null || fail "fetcher died while the broker was down"
grep -q "receive failed: UNAVAILABLE" "$E2E_TMP/fetcher-broker-down.log" \
  || fail "no clear message while the broker is unreachable"
# The restarted moto is empty. SNS delivers only to the subscriptions that exist when a
# message is published, so an event published between `infra up` creating the topic and
# creating its subscriptions would be dropped: the recovery (docs/operations.md) is to hold
# publishers while `infra up` runs. The fetcher is frozen for just that step.
kill -STOP "$fetcher"
start_private_moto
dripr infra up --env dev >/dev/null 2>>"$E2E_TMP/infra.log" || fail "infra up after restart"
kill -CONT "$fetcher"
poll 90 "campaigns started during the outage ready" all_in_status 7 READY_TO_CREATE_EMAIL
kill -0 "$fetcher" 2>/dev/null || fail "fetcher died"

# 5. No secret in any output.
kill -TERM "$fetcher"
wait "$fetcher" || fail "fetcher exit code on SIGTERM"
for f in "$E2E_TMP"/*.log "$E2E_TMP"/*.lines "$E2E_TMP"/status.out; do
  grep -q -- "$AWS_SECRET_ACCESS_KEY" "$f" && fail "the AWS secret key appears in $f"
done
echo "PASS"
