"""The monitoring criteria on the emulator: alarm actions and state, canaries, log groups.
For each, a compliant and a violating resource read by the real collectors and judged by
the real check functions; unreadable data gives not-evaluated, never a pass."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from readiness.config import Endpoint, Thresholds
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl
from readiness.inventory.model import Resource

from .test_data_support import Taken, checks_of, outcome, snapshot

KINDS = ("cloudwatch.metric_alarms", "sns.topics", "synthetics.canaries", "logs.log_groups")
ACCOUNT = "123456789012"
HEARD = f"arn:aws:sns:us-east-1:{ACCOUNT}:heard"
UNHEARD = f"arn:aws:sns:us-east-1:{ACCOUNT}:unheard"
GONE = f"arn:aws:sns:us-east-1:{ACCOUNT}:gone"
MODULES = (
    "audit/monitoring/test_alarm_actions.py",
    "audit/monitoring/test_alarm_state.py",
    "audit/monitoring/test_canaries.py",
    "audit/monitoring/test_log_groups.py",
)


@dataclass
class World:
    taken: Taken
    denied: Taken
    checks: dict[str, Any]


def _alarm(control: EmulatorControl, name: str, actions: list[str], **extra: Any) -> None:
    control.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": name}],
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=actions,
        **extra,
    )


def _canary(control: EmulatorControl, name: str) -> None:
    control.client("synthetics").create_canary(
        Name=name,
        Code={"Handler": "index.handler", "ZipFile": b"PK\x05\x06" + b"\0" * 18},
        ArtifactS3Location=f"s3://artifacts/{name}",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/canary",
        Schedule={"Expression": "rate(5 minutes)"},
        RuntimeVersion="syn-nodejs-puppeteer-9.1",
    )


def build(control: EmulatorControl) -> None:
    sns = control.client("sns")
    sns.create_topic(Name="heard")
    sns.create_topic(Name="unheard")
    queue = control.client("sqs").create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = control.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=HEARD, Protocol="sqs", Endpoint=queue_arn)
    _alarm(control, "notifies", [HEARD])
    _alarm(control, "silent", [])
    _alarm(control, "to-gone-topic", [GONE])
    _alarm(control, "to-unheard-topic", [UNHEARD])
    _alarm(control, "disabled", [HEARD], ActionsEnabled=False)
    _alarm(control, "scaling", [f"arn:aws:autoscaling:us-east-1:{ACCOUNT}:scalingPolicy:x"])
    _alarm(control, "firing", [HEARD])
    _alarm(control, "no-data", [HEARD])
    cloudwatch = control.client("cloudwatch")
    _alarm(control, "quiet-child", [])
    cloudwatch.put_composite_alarm(
        AlarmName="parent", AlarmRule='ALARM("quiet-child") OR ALARM(firing)', AlarmActions=[HEARD]
    )
    cloudwatch.put_composite_alarm(AlarmName="silent-parent", AlarmRule='ALARM("silent")')
    cloudwatch.set_alarm_state(AlarmName="firing", StateValue="ALARM", StateReason="hot")
    cloudwatch.set_alarm_state(
        AlarmName="no-data", StateValue="INSUFFICIENT_DATA", StateReason="quiet"
    )
    for name in ("up", "down", "never-started"):
        _canary(control, name)
    synthetics = control.client("synthetics")
    synthetics.start_canary(Name="up")
    synthetics.start_canary(Name="down")
    synthetics.stop_canary(Name="down")
    logs = control.client("logs")
    for name, days in (("/kept", 30), ("/short", 7), ("/forever", None)):
        logs.create_log_group(logGroupName=name)
        if days is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)


@pytest.fixture(scope="module")
def world(pytestconfig: pytest.Config) -> Iterator[World]:
    checks = checks_of(pytestconfig, *MODULES)
    with EmulatorProcess.start("empty") as emulator:
        build(EmulatorControl(emulator.endpoint))
        taken = snapshot(emulator.endpoint, KINDS)
        denied = snapshot(
            emulator.endpoint,
            KINDS,
            denied=[
                ("sns", "ListTopics"),
                ("synthetics", "DescribeCanaries"),
                ("logs", "DescribeLogGroups"),
            ],
        )
        yield World(taken, denied, checks)


def _alarm_of(world: World, name: str) -> Resource:
    return world.taken.resource("cloudwatch.metric_alarms", name)


@pytest.mark.parametrize(
    ("alarm", "expected", "message"),
    [
        ("notifies", "passed", ""),
        ("silent", "failed", "us-east-1/silent notifies nobody: it has no alarm action"),
        ("to-gone-topic", "failed", f"us-east-1/to-gone-topic notifies nobody: topic {GONE} does"),
        (
            "to-unheard-topic",
            "failed",
            f"us-east-1/to-unheard-topic notifies nobody: topic {UNHEARD} has no confirmed",
        ),
        ("disabled", "failed", "us-east-1/disabled notifies nobody: its actions are disabled"),
    ],
)
def test_alarm_actions(world: World, alarm: str, expected: str, message: str) -> None:
    result, text = outcome(
        world.checks["test_alarm_actions_notify"],
        resource=_alarm_of(world, alarm),
        inventory=world.taken.snapshot,
    )
    assert (result, text[: len(message)]) == (expected, message)


def test_scaling_alarms_are_not_alerts(world: World) -> None:
    judged = world.taken.selected(world.checks["test_alarm_actions_notify"])
    assert "us-east-1/scaling" not in judged and "us-east-1/silent" in judged


def test_pending_subscription_is_not_confirmed(world: World) -> None:
    from readiness.inventory.collectors.sns import confirmed, subscription

    pending = subscription({"Protocol": "email", "SubscriptionArn": "PendingConfirmation"})
    topic = Resource("sns.topics", "us-east-1", "t", {"Subscriptions": [pending]})
    assert pending["Confirmed"] is False and confirmed(topic) == []
    heard = world.taken.resource("sns.topics", "heard")
    assert [s["Protocol"] for s in confirmed(heard)] == ["sqs"]
    assert "Endpoint" not in heard.get("Subscriptions")[0]  # never kept


def test_composite_alarms(world: World) -> None:
    check = world.checks["test_alarm_actions_notify"]
    snap = world.taken.snapshot
    parent = _alarm_of(world, "parent")
    assert parent.get("AlarmKind") == "composite"
    assert outcome(check, resource=parent, inventory=snap) == ("passed", "")
    # A child without actions is covered by a composite parent that notifies...
    assert outcome(check, resource=_alarm_of(world, "quiet-child"), inventory=snap) == (
        "passed",
        "",
    )
    # ...but not by one that notifies nobody itself.
    result, text = outcome(check, resource=_alarm_of(world, "silent-parent"), inventory=snap)
    assert (result, text) == (
        "failed",
        "us-east-1/silent-parent notifies nobody: it has no alarm action to an SNS topic",
    )
    assert outcome(check, resource=_alarm_of(world, "silent"), inventory=snap)[0] == "failed"


def test_unreadable_topics_are_not_evaluated(world: World) -> None:
    result, text = outcome(
        world.checks["test_alarm_actions_notify"],
        resource=world.denied.resource("cloudwatch.metric_alarms", "notifies"),
        inventory=world.denied.snapshot,
    )
    assert result == "not-evaluated" and "sns.topics in us-east-1" in text


def test_alarm_state(world: World) -> None:
    notes: list[tuple[str, object]] = []
    check = world.checks["test_alarm_not_in_alarm"]

    def judge(name: str) -> tuple[str, str]:
        return outcome(
            check,
            resource=_alarm_of(world, name),
            record_property=lambda k, v: notes.append((k, v)),
        )

    assert judge("notifies") == ("passed", "")
    result, text = judge("firing")
    assert result == "failed" and text.startswith("us-east-1/firing is in ALARM since")
    assert text.endswith("hot")
    assert judge("no-data") == ("passed", "")
    assert notes == [
        ("note", "us-east-1/no-data is INSUFFICIENT_DATA: not in ALARM, but it has no data")
    ]


@pytest.mark.parametrize(
    ("canary", "expected", "message"),
    [
        ("up", "passed", ""),
        ("down", "failed", "canary down (endpoint web) is not RUNNING: us-east-1/down is STOPPED"),
        ("never-started", "failed", "canary never-started (endpoint web) is not RUNNING: "),
        ("missing", "failed", "canary missing (endpoint web) not found in us-east-1"),
        (None, "failed", "endpoint web (https://example.com/health) names no canary"),
    ],
)
def test_canaries(world: World, canary: str | None, expected: str, message: str) -> None:
    endpoint = Endpoint(name="web", url="https://example.com/health", canary=canary)
    result, text = outcome(
        world.checks["test_canary_running"], endpoint=endpoint, inventory=world.taken.snapshot
    )
    assert (result, text[: len(message)]) == (expected, message)


def test_unreadable_canaries_and_log_groups_are_not_evaluated(world: World) -> None:
    endpoint = Endpoint(name="web", url="https://example.com/health", canary="up")
    result, text = outcome(
        world.checks["test_canary_running"], endpoint=endpoint, inventory=world.denied.snapshot
    )
    assert result == "not-evaluated" and "synthetics.canaries in us-east-1" in text
    result, text = outcome(
        world.checks["test_log_group_exists"],
        log_group_name="/kept",
        inventory=world.denied.snapshot,
    )
    assert result == "not-evaluated" and "logs.log_groups in us-east-1" in text


@pytest.mark.parametrize(
    ("group", "expected", "message", "note"),
    [
        ("/kept", "passed", "", None),
        ("/short", "failed", "us-east-1//short keeps events 7 days, under the 30-day", None),
        ("/forever", "passed", "", "us-east-1//forever never expires its events"),
    ],
)
def test_log_group_retention(
    world: World, group: str, expected: str, message: str, note: str | None
) -> None:
    notes: list[object] = []
    result, text = outcome(
        world.checks["test_log_group_retention"],
        resource=world.taken.resource("logs.log_groups", group),
        thresholds=Thresholds(log_retention_days=30),
        record_property=lambda k, v: notes.append(v),
    )
    assert (result, text[: len(message)]) == (expected, message)
    assert [str(n)[: len(note)] for n in notes] == ([note] if note else [])


def test_configured_log_groups_exist(world: World) -> None:
    check = world.checks["test_log_group_exists"]
    snap = world.taken.snapshot
    assert outcome(check, log_group_name="/kept", inventory=snap) == ("passed", "")
    result, text = outcome(check, log_group_name="/ecs/missing", inventory=snap)
    assert (result, text) == ("failed", "log group /ecs/missing not found in us-east-1")


def test_reads_once_and_read_only(world: World) -> None:
    calls = world.taken.calls
    assert calls["total_calls"] == calls["distinct_requests"] > 0
    assert calls["mutating_calls"] == []


def test_preflight_expected_alarms_and_canaries(pytestconfig: pytest.Config, world: World) -> None:
    pytestconfig.addinivalue_line("markers", "preflight: readiness check marker")
    quick = checks_of(pytestconfig, "preflight/test_quick_health.py")
    snap = world.taken.snapshot
    assert outcome(quick["test_alarm_exists"], inventory=snap, expected_name="firing") == (
        "passed",
        "",
    )
    assert outcome(quick["test_alarm_exists"], inventory=snap, expected_name="absent") == (
        "failed",
        "CloudWatch alarm absent not found in us-east-1",
    )
    assert outcome(quick["test_canary_exists"], inventory=snap, expected_name="down") == (
        "passed",
        "",
    )
    assert outcome(quick["test_canary_exists"], inventory=snap, expected_name="absent") == (
        "failed",
        "canary absent not found in us-east-1",
    )
    result, text = outcome(
        quick["test_canary_exists"], inventory=world.denied.snapshot, expected_name="down"
    )
    assert result == "not-evaluated" and "synthetics.canaries in us-east-1" in text


def test_preflight_reads_alarms_and_canaries() -> None:
    from readiness.inventory.collectors import by_kind

    for kind in ("cloudwatch.metric_alarms", "synthetics.canaries"):
        assert "preflight" in by_kind()[kind].phases
