"""History for the post-deploy windows: what the last 24 hours of production looked like.

Runs after every other area (ORDER 90) and makes only what they did not: the canaries
`prod-api-health` and `prod-web-health` and the log groups `/ecs/prod-api` and
`/ecs/prod-worker` are created when absent (looked up first); a GuardDuty detector and
Security Hub in each region only when no region has one (otherwise another area manages
them, and a region without one is that area's planted defect). Then, in us-east-1,
with timestamps over the last 24 hours (5-minute points for the last 2 hours, hourly
points before):
- `CloudWatchSynthetics/SuccessPercent` per canary, and the canaries' runs;
- `AWS/Lambda` Invocations and Errors per function;
- a few application log lines in each log group.

demo: every canary at 100 % (one hourly dip to 98 % a day ago), every run passed,
  Lambda errors at 0, no finding: `pytest -m postdeploy` is GO in both windows.
demo-risky (warnings only):
  - prod-report-builder: no invocation in the last 24 hours        (lambda-invocations)
demo-broken (criticals):
  - prod-api-health: SuccessPercent 80 % over the last 2 hours, last run FAILED
                                                (canary-success-window, canary-last-run)
  - prod-image-resizer: 30 % of invocations failed in the last 2 hours (lambda-error-rate)
  - prod-api-cpu-high: in ALARM                                       (alarm-not-firing)
  - us-east-1: GuardDuty finding UnauthorizedAccess:EC2/SSHBruteForce, severity 8
                                                          (guardduty-no-high-findings)
  - ERROR lines in /ecs/prod-api (for the triage)
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from readiness.emulator.seeds import HOME, REGIONS, TAGS, Stack

ORDER = 90
CANARIES = ("prod-api-health", "prod-web-health")
FUNCTIONS = ("prod-image-resizer", "prod-report-builder")
LOG_GROUPS = ("/ecs/prod-api", "/ecs/prod-worker")
BROKEN_CANARY = "prod-api-health"
BROKEN_FUNCTION = "prod-image-resizer"
QUIET_FUNCTION = "prod-report-builder"
FIRING_ALARM = "prod-api-cpu-high"
SHORT = dt.timedelta(hours=2)
DAY = dt.timedelta(hours=24)
STEP = dt.timedelta(minutes=5)
HOUR = dt.timedelta(hours=1)
CANARY_ROLE = "arn:aws:iam::123456789012:role/prod-canary"


def timeline(now: dt.datetime) -> Iterator[tuple[dt.datetime, bool]]:
    """(timestamp, within the last 2 h) for every point: hourly, then every 5 minutes."""
    when = now - DAY + HOUR
    while when <= now - SHORT:
        yield when, False
        when += HOUR
    when = now - SHORT + STEP
    while when <= now:
        yield when, True
        when += STEP


def seed(stack: Stack) -> None:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    ensure_canaries(stack)
    ensure_security_services(stack)
    ensure_log_groups(stack)
    seed_canaries(stack, now)
    seed_lambda(stack, now)
    seed_logs(stack, now)
    if stack.broken:
        plant_incidents(stack, now)


# -- made only when another area did not make them ---------------------------------------


def _canary_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("nodejs/node_modules/index.js", "exports.handler = async () => {};\n")
    return buffer.getvalue()


def ensure_canaries(stack: Stack) -> None:
    synthetics = stack.client("synthetics")
    existing = {c["Name"] for c in synthetics.describe_canaries().get("Canaries", [])}
    for name in CANARIES:
        if name in existing:
            continue
        synthetics.create_canary(
            Name=name,
            Code={"Handler": "index.handler", "ZipFile": _canary_zip()},
            ArtifactS3Location=f"s3://prod-logs-123456789012/canaries/{name}",
            ExecutionRoleArn=CANARY_ROLE,
            Schedule={"Expression": "rate(5 minutes)"},
            RuntimeVersion="syn-nodejs-puppeteer-9.1",
            Tags=dict(TAGS),
        )
        stack.count("synthetics.canaries")


def ensure_security_services(stack: Stack) -> None:
    """A detector and a hub in every region, unless another area manages them: then a
    region without one is that area's planted defect, and stays as it is."""
    detectors = {
        region: stack.client("guardduty", region).list_detectors().get("DetectorIds", [])
        for region in REGIONS
    }
    if not any(detectors.values()):
        for region in REGIONS:
            stack.client("guardduty", region).create_detector(Enable=True, Tags=dict(TAGS))
            stack.count("guardduty.detectors")
    hubs = {region: _hub_enabled(stack, region) for region in REGIONS}
    if not any(hubs.values()):
        for region in REGIONS:
            stack.client("securityhub", region).enable_security_hub(
                EnableDefaultStandards=False, Tags=dict(TAGS)
            )
            stack.count("securityhub.hubs")


def _hub_enabled(stack: Stack, region: str) -> bool:
    hub = stack.client("securityhub", region)
    try:
        hub.describe_hub()
    except hub.exceptions.InvalidAccessException:
        return False
    return True


def ensure_log_groups(stack: Stack) -> None:
    logs = stack.client("logs")
    for name in LOG_GROUPS:
        found = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
        if any(g["logGroupName"] == name for g in found):
            continue
        logs.create_log_group(logGroupName=name, tags=dict(TAGS))
        logs.put_retention_policy(logGroupName=name, retentionInDays=30)
        stack.count("logs.log_groups")


# -- metric history and runs ------------------------------------------------------------


def success_percent(
    canary: str, when: dt.datetime, recent: bool, stack: Stack, now: dt.datetime
) -> float:
    if stack.broken and canary == BROKEN_CANARY and recent:
        return 80.0
    if not recent and now - when > dt.timedelta(hours=20) and now - when <= dt.timedelta(hours=21):
        return 98.0
    return 100.0


def _put(stack: Stack, namespace: str, data: list[dict[str, Any]]) -> None:
    cloudwatch = stack.client("cloudwatch")
    for start in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 500])


def seed_canaries(stack: Stack, now: dt.datetime) -> None:
    points: list[dict[str, Any]] = []
    for canary in CANARIES:
        runs: list[dict[str, Any]] = []
        for when, recent in timeline(now):
            value = success_percent(canary, when, recent, stack, now)
            points.append(
                {
                    "MetricName": "SuccessPercent",
                    "Dimensions": [{"Name": "CanaryName", "Value": canary}],
                    "Timestamp": when,
                    "Value": value,
                    "Unit": "Percent",
                }
            )
            failed = recent and value < 100.0  # an hourly dip is one failure in twelve runs
            runs.append(
                {
                    "state": "FAILED" if failed else "PASSED",
                    "started": when.isoformat(),
                    "reason": "GET /api/ping answered 503",
                }
            )
        stack.control.call("synthetics-canary-runs", canary=canary, region=HOME, runs=runs)
        stack.count("synthetics.canary_runs", len(runs))
    _put(stack, "CloudWatchSynthetics", points)
    stack.count("cloudwatch.datapoints", len(points))


def seed_lambda(stack: Stack, now: dt.datetime) -> None:
    points: list[dict[str, Any]] = []
    for function in FUNCTIONS:
        if stack.risky and function == QUIET_FUNCTION:
            continue
        for when, recent in timeline(now):
            invocations = 10.0 if recent else 120.0
            errors = 0.0
            if stack.broken and function == BROKEN_FUNCTION and recent:
                errors = round(invocations * 0.3, 1)
            for metric, value in (("Invocations", invocations), ("Errors", errors)):
                points.append(
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": "FunctionName", "Value": function}],
                        "Timestamp": when,
                        "Value": value,
                        "Unit": "Count",
                    }
                )
    _put(stack, "AWS/Lambda", points)
    stack.count("cloudwatch.datapoints", len(points))


def seed_logs(stack: Stack, now: dt.datetime) -> None:
    logs = stack.client("logs")
    for group in LOG_GROUPS:
        stream = f"{group.rsplit('-', 1)[-1]}/app/0001"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        lines = [("INFO", "request served in 23 ms"), ("INFO", "health check ok")]
        if stack.broken and group == "/ecs/prod-api":
            lines += [
                ("ERROR", "upstream prod-db timed out after 5000 ms"),
                ("ERROR", "GET /api/ping failed: 503 Service Unavailable"),
            ]
        events = [
            {
                "timestamp": int((now - dt.timedelta(minutes=len(lines) - i)).timestamp() * 1000),
                "message": f"{level} {text}",
            }
            for i, (level, text) in enumerate(lines)
        ]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def plant_incidents(stack: Stack, now: dt.datetime) -> None:
    stack.client("cloudwatch").set_alarm_state(
        AlarmName=FIRING_ALARM,
        StateValue="ALARM",
        StateReason="Threshold Crossed: 3 of the last 5 datapoints were above 80.0",
    )
    stack.control.call(
        "guardduty-findings",
        region=HOME,
        findings=[
            {
                "type": "UnauthorizedAccess:EC2/SSHBruteForce",
                "severity": 8.0,
                "title": "SSH brute force attempts against i-0abc1234 in prod-vpc",
                "created": (now - HOUR).isoformat(),
            }
        ],
    )
    stack.count("guardduty.findings")
