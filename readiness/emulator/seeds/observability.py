"""Observability and cost (us-east-1): the alerts topic, the canaries, the log groups, a
5XX and composite alarms, the monthly budget and the month's cost figures.

Runs after compute and data (ORDER 60), whose alarms all notify `prod-alerts`.

demo: SNS topic `prod-alerts` with a confirmed SQS subscription (queue
`prod-notifications`, made here only if the data area did not) and an e-mail one;
canaries `prod-api-health` and `prod-web-health` started (RUNNING; their artifact
location is only a name, no bucket is made); log groups `/ecs/prod-api` and
`/ecs/prod-worker` kept 30 days; alarm `prod-api-5xx` (target 5XX answers behind the
load balancer) and composite alarm `prod-service-health` (API or database CPU high),
both notifying prod-alerts; budget `monthly-production` (450 USD a month, notifies
platform@example.com at 90 % of the forecast); Cost Explorer at 9 USD a day, forecast the
same (at most 279 USD in a month, under the 500 USD limit); every key of TAGS active
as a cost-allocation tag in Billing (all variants). Everything tagged with TAGS.

demo-risky (warnings only):
- `prod-api-5xx`: alarm without any alarm action                         (alarm-actions-notify)
- `/ecs/prod-worker`: events kept 7 days, under the 30-day threshold    (log-group-retention)
- `/ecs/prod-worker`: no Owner tag                                      (cost-allocation-tags)
- `monthly-production`: no notification                                 (cost-budget-notifies)

demo-broken (criticals):
- `prod-api-cpu-high`, and so `prod-service-health`: in ALARM            (alarm-not-in-alarm)
- `prod-web-health`: canary stopped                                     (canary-running)
- Cost Explorer: 17 USD a day so far, 60 USD a day forecast: the month's forecast is over
  the 500 USD limit (on the last day of a month the actual spend is)     (cost-forecast-*)
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from readiness.emulator.seeds import ACCOUNT, ALERTS_TOPIC_ARN, TAGS, Stack, tag_list

ORDER = 60
BUDGET = "monthly-production"
BUDGET_LIMIT_USD = 450
CANARIES = ("prod-api-health", "prod-web-health")
CANARY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/prod-canary"
LOG_GROUPS = ("/ecs/prod-api", "/ecs/prod-worker")
LOG_RETENTION_DAYS = 30
ALERT_QUEUE = "prod-notifications"
EDGE_ALARM = "prod-api-5xx"
COMPOSITE = "prod-service-health"
COMPOSITE_OF = ("prod-api-cpu-high", "prod-db-cpu-high")
FIRING_ALARM = "prod-api-cpu-high"  # the post-deploy history fires the same one
STOPPED_CANARY = "prod-web-health"
DAILY_USD = {"demo": 9.0, "demo-risky": 9.0, "demo-broken": 17.0}
FORECAST_DAILY_USD = {"demo": 9.0, "demo-risky": 9.0, "demo-broken": 60.0}


def seed(stack: Stack) -> None:
    seed_alerts_topic(stack)
    seed_canaries(stack)
    seed_log_groups(stack)
    seed_edge_alarm(stack)
    seed_composite_alarm(stack)
    seed_cost(stack)
    if stack.broken:
        cloudwatch = stack.client("cloudwatch")
        cloudwatch.set_alarm_state(
            AlarmName=FIRING_ALARM,
            StateValue="ALARM",
            StateReason="Threshold Crossed: 3 datapoints were greater than the threshold (80.0)",
        )
        cloudwatch.set_alarm_state(  # what AWS would make of its rule
            AlarmName=COMPOSITE, StateValue="ALARM", StateReason=f"{FIRING_ALARM} is in ALARM"
        )


def seed_alerts_topic(stack: Stack) -> None:
    sns = stack.client("sns")
    arn = sns.create_topic(Name=ALERTS_TOPIC_ARN.rsplit(":", 1)[-1], Tags=tag_list())["TopicArn"]
    sqs = stack.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=ALERT_QUEUE)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        url = sqs.create_queue(QueueName=ALERT_QUEUE, tags=dict(TAGS))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="oncall@example.com")
    stack.count("sns.topics")


def _canary_code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("nodejs/node_modules/index.js", "exports.handler = async () => {};\n")
    return buffer.getvalue()


def seed_canaries(stack: Stack) -> None:
    synthetics = stack.client("synthetics")
    for name in CANARIES:
        synthetics.create_canary(
            Name=name,
            Code={"Handler": "index.handler", "ZipFile": _canary_code()},
            ArtifactS3Location=f"s3://prod-logs-{ACCOUNT}/canaries/{name}",
            ExecutionRoleArn=CANARY_ROLE,
            Schedule={"Expression": "rate(5 minutes)"},
            RuntimeVersion="syn-nodejs-puppeteer-9.1",
            Tags=dict(TAGS),
        )
        synthetics.start_canary(Name=name)
        if stack.broken and name == STOPPED_CANARY:
            synthetics.stop_canary(Name=name)
        stack.count("synthetics.canaries")


def seed_log_groups(stack: Stack) -> None:
    logs = stack.client("logs")
    for name in LOG_GROUPS:
        risky = stack.risky and name == "/ecs/prod-worker"
        tags = {k: v for k, v in TAGS.items() if not (risky and k == "Owner")}
        logs.create_log_group(logGroupName=name, tags=tags)
        logs.put_retention_policy(
            logGroupName=name, retentionInDays=7 if risky else LOG_RETENTION_DAYS
        )
        stack.count("logs.log_groups")


def seed_edge_alarm(stack: Stack) -> None:
    """Target 5XX answers behind the load balancer (not a per-service alarm: ours)."""
    spec: dict[str, Any] = {
        "AlarmName": EDGE_ALARM,
        "AlarmDescription": "The API answers 5XX behind prod-alb",
        "Namespace": "AWS/ApplicationELB",
        "MetricName": "HTTPCode_Target_5XX_Count",
        "Dimensions": [{"Name": "LoadBalancer", "Value": "app/prod-alb/0123456789abcdef"}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 5,
        "DatapointsToAlarm": 3,
        "Threshold": 10.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "Tags": tag_list(),
    }
    if not stack.risky:
        spec["AlarmActions"] = [ALERTS_TOPIC_ARN]
        spec["OKActions"] = [ALERTS_TOPIC_ARN]
    stack.client("cloudwatch").put_metric_alarm(**spec)
    stack.count("cloudwatch.metric_alarms")


def seed_composite_alarm(stack: Stack) -> None:
    stack.client("cloudwatch").put_composite_alarm(
        AlarmName=COMPOSITE,
        AlarmDescription="The API or its database is running hot",
        AlarmRule=" OR ".join(f'ALARM("{name}")' for name in COMPOSITE_OF),
        AlarmActions=[ALERTS_TOPIC_ARN],
        OKActions=[ALERTS_TOPIC_ARN],
        Tags=tag_list(),
    )
    stack.count("cloudwatch.metric_alarms")


def _spend(daily: float, forecast_daily: float) -> tuple[float, float]:
    """(month to date, month's forecast) of the planted cost model, as of today (UTC)."""
    today = dt.datetime.now(dt.UTC).date()
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    spent = daily * today.day
    return spent, spent + forecast_daily * (following - today - dt.timedelta(days=1)).days


def seed_cost(stack: Stack) -> None:
    stack.client("ce").update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[{"TagKey": key, "Status": "Active"} for key in TAGS]
    )
    daily, forecast_daily = DAILY_USD[stack.variant], FORECAST_DAILY_USD[stack.variant]
    stack.control.call("cost-explorer", daily_usd=daily, forecast_daily_usd=forecast_daily)
    spent, forecast = _spend(daily, forecast_daily)
    budget: dict[str, Any] = {
        "BudgetName": BUDGET,
        "BudgetLimit": {"Amount": str(BUDGET_LIMIT_USD), "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        "CalculatedSpend": {
            "ActualSpend": {"Amount": f"{spent:.2f}", "Unit": "USD"},
            "ForecastedSpend": {"Amount": f"{forecast:.2f}", "Unit": "USD"},
        },
    }
    notifications = [
        {
            "Notification": {
                "NotificationType": "FORECASTED",
                "ComparisonOperator": "GREATER_THAN",
                "Threshold": 90,
                "ThresholdType": "PERCENTAGE",
            },
            "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "platform@example.com"}],
        }
    ]
    stack.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget=budget,
        NotificationsWithSubscribers=[] if stack.risky else notifications,
    )
    stack.count("budgets")
