#!/usr/bin/env bash
# Issue 11: deploy/cloudformation.yaml. cfn-lint passes; the template says what dripr says
# (the subscription filter of src/dripr/bus/sqs_limits.h, exactly the fetcher actions of
# docs/operations.md, an alarm on every DLQ's depth and every work queue's oldest message);
# deployed to moto_server's CloudFormation it makes queues that `dripr infra up --dry-run`
# finds identical to its own; the pipeline runs on the stack's outputs.
#
# moto 5.2's CloudFormation skips AWS::SNS::Subscription, AWS::SQS::QueuePolicy and
# AWS::CloudWatch::Alarm (it warns "not supported"): those are checked statically above, and
# on moto `dripr infra up` adds the subscriptions and policies to the stack's resources (the
# adoption path) before the pipeline runs.
source "$(dirname "$0")/lib.sh"
template=${DRIPR_SOURCE_DIR:?}/deploy/cloudformation.yaml
command -v cfn-lint >/dev/null || fail "cfn-lint not found (pip install cfn-lint)"
cfn-lint "$template" >"$E2E_TMP/cfn-lint.log" 2>&1 || fail "cfn-lint: $(cat "$E2E_TMP/cfn-lint.log")"

python3 - "$template" "$DRIPR_SOURCE_DIR/src/dripr/bus/sqs_limits.h" "$DRIPR_SOURCE_DIR/docs/operations.md" <<'PY' || fail "the template disagrees with the code or the docs"
import json, re, sys
from cfnlint.decode import decode
tpl, errors = decode(sys.argv[1])
assert not errors, errors
res = tpl["Resources"]
header = open(sys.argv[2]).read()
body_filter = json.loads(re.search(r'kWaitingForDataBodyFilter =\s*R"\((.*?)\)"', header, re.S).group(1))
scope = re.search(r'kFilterPolicyScope = "(\w+)"', header).group(1)
parts = ["LocalMarketUpdates", "ActiveListings", "RecentSales"]
for p in parts:
    sub = res[p + "Subscription"]["Properties"]
    assert sub["FilterPolicy"] == body_filter and sub["FilterPolicyScope"] == scope, sub
    assert sub["RawMessageDelivery"] is False, sub
    assert res[p + "Queue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [p + "Dlq", "Arn"]}
    stmt = res[p + "QueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Sid"] for s in stmt] == ["AllowCampaignEventsTopic"], stmt
alarms = {(a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0])
          for a in res.values() if a["Type"] == "AWS::CloudWatch::Alarm"}
want = {("ApproximateNumberOfMessagesVisible", p + "Dlq") for p in parts} | \
       {("ApproximateAgeOfOldestMessage", p + "Queue") for p in parts}
assert alarms == want, alarms ^ want
# The fetcher policy: exactly docs/operations.md's table between the fetcher-iam markers.
doc = open(sys.argv[3]).read()
table = doc.split("<!-- fetcher-iam -->")[1]
documented = set()
for line in table.strip().splitlines()[2:]:
    cells = [c.strip() for c in line.strip("|").split("|")]
    kind = {"the three work queues": "Queue", "their DLQs": "Dlq", "the topic": "Topic"}[cells[0]]
    documented |= {(kind, a) for a in re.findall(r"`([a-z]+:\w+)`", cells[1])}
granted = set()
for s in res["FetcherPolicy"]["Properties"]["PolicyDocument"]["Statement"]:
    assert s["Effect"] == "Allow", s
    actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
    targets = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
    for t in targets:
        if "Fn::GetAtt" in t:
            name = t["Fn::GetAtt"][0]
            kind = "Dlq" if name.endswith("Dlq") else "Queue"
            assert name[: -len(kind)] in parts, name
        else:
            kind = "Topic"
        granted |= {(kind, a) for a in actions}
assert granted == documented, f"template only: {granted - documented}, docs only: {documented - granted}"
print("template checks passed:", len(granted), "grants,", len(alarms), "alarms")
PY

# Deploy to moto's CloudFormation.
start_private_moto
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIDE2ETESTKEY AWS_SECRET_ACCESS_KEY="e2e-secret-$RANDOM$RANDOM" \
  AWS_EC2_METADATA_DISABLED=true DATABASE_URL="sqlite:$E2E_TMP/cfn.db" DRIPR_RECEIVE_WAIT_SECONDS=1
python3 - "$template" >"$E2E_TMP/outputs.env" 2>"$E2E_TMP/deploy.log" <<'PY' || fail "deploying the stack: $(cat "$E2E_TMP/deploy.log")"
import boto3, sys
cf = boto3.client("cloudformation")
cf.create_stack(StackName="dripr-dev", TemplateBody=open(sys.argv[1]).read(),
                Parameters=[{"ParameterKey": "EnvName", "ParameterValue": "dev"}],
                Capabilities=["CAPABILITY_NAMED_IAM"])
stack = cf.describe_stacks(StackName="dripr-dev")["Stacks"][0]
assert stack["StackStatus"] == "CREATE_COMPLETE", stack["StackStatus"]
out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
env = {"SNS_CAMPAIGN_EVENTS_TOPIC_ARN": out["SnsCampaignEventsTopicArn"]}
for part, var in (("LocalMarketUpdates", "LOCAL_MARKET_UPDATES"), ("ActiveListings", "ACTIVE_LISTINGS"),
                  ("RecentSales", "RECENT_SALES")):
    env[f"SQS_{var}_QUEUE_URL"] = out[f"Sqs{part}QueueUrl"]
    env[f"SQS_{var}_DLQ_URL"] = out[f"Sqs{part}DlqUrl"]
iam = boto3.client("iam")
version = iam.get_policy(PolicyArn=out["FetcherPolicyArn"])["Policy"]["DefaultVersionId"]
doc = iam.get_policy_version(PolicyArn=out["FetcherPolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
assert any("sns:Publish" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) for s in doc["Statement"]), doc
for k, v in env.items():
    print(f"{k}={v}")
PY
set -a
source "$E2E_TMP/outputs.env"
set +a

# What infra up would do to the stack: the topic, queues and DLQs exactly as dripr makes
# them (reuse); only what moto skipped (policies, subscriptions) remains to be added.
plan=$(dripr infra up --env dev --dry-run --json) || fail "infra up --dry-run on the stack"
[[ $(json_get "$plan" 'sorted({(s["resource"], s["action"]) for s in d["plan"]})') == \
   "[('dlq', 'reuse'), ('queue', 'reuse'), ('queue policy', 'change'), ('subscription', 'create'), ('topic', 'reuse')]" ]] \
  || fail "the stack's resources differ from dripr's: $plan"
dripr infra up --env dev >/dev/null 2>"$E2E_TMP/infra.log" || fail "infra up on the stack"
dripr infra status --env dev >"$E2E_TMP/status.out" || fail "infra status: $(cat "$E2E_TMP/status.out")"

# The pipeline on the stack's outputs.
dripr migrate >/dev/null || fail "migrate"
start_fetcher fetcher EVENT_BUS=aws
start_campaigns cfn 3
poll 60 "campaigns ready on the stack's queues" all_in_status 3 READY_TO_CREATE_EMAIL
stop_fetcher
echo "PASS"
