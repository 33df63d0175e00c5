"""Alarms on the data tier: an enabled alarm that notifies someone, on the metric that
shows trouble first, with exactly the dimensions that name the resource (a CloudWatch
metric is identified by its full set of dimensions, and alarms live in the resource's
region). Metric-math alarms count when one of their metrics is the one watched.
"""

from collections.abc import Mapping
from typing import Any

import pytest

from readiness.config import Environment
from readiness.inventory.collectors.rds import is_cluster_member
from readiness.inventory.collectors.sqs import is_dead_letter_queue
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.audit, pytest.mark.warning]
ALARMS = "cloudwatch.metric_alarms"
CW_DOCS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring"
PUT_ALARM = (
    "aws cloudwatch put-metric-alarm --alarm-name NAME --namespace {ns} --metric-name {metric} "
    "--dimensions Name={dim},Value=ID --statistic {stat} --period 300 --evaluation-periods 2 "
    "--threshold {threshold} --comparison-operator {op} --alarm-actions SNS_TOPIC_ARN"
)


def _dimensions(raw: Any) -> dict[str, str]:
    return {str(d.get("Name")): str(d.get("Value")) for d in raw or [] if isinstance(d, dict)}


def _metrics_of(alarm: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The metrics an alarm evaluates: its own, or those of its metric-math queries."""
    if alarm.get("MetricName"):
        return [alarm]
    return [
        (query.get("MetricStat") or {}).get("Metric") or {}
        for query in alarm.get("Metrics") or []
        if isinstance(query, dict)
    ]


def _watches(alarm: Mapping[str, Any], namespace: str, metric: str, dims: dict[str, str]) -> bool:
    return any(
        m.get("Namespace") == namespace
        and m.get("MetricName") == metric
        and _dimensions(m.get("Dimensions")) == dims
        for m in _metrics_of(alarm)
    )


def _alarms_in(inventory: Snapshot, region: str) -> list[Resource]:
    gaps = [g for g in inventory.gaps(ALARMS) if g.region == region]
    if gaps:
        raise NotEvaluated(gaps[0].message())
    return [
        a
        for a in inventory.resources(ALARMS)
        if a.region == region and a.get("AlarmKind", "metric") == "metric"
    ]


def assert_alarmed(
    inventory: Snapshot,
    resource: Resource,
    namespace: str,
    metric: str,
    candidates: list[dict[str, str]],
) -> None:
    """Some enabled alarm with an action watches `metric` under one of the dimension sets."""
    watching = [
        a
        for a in _alarms_in(inventory, resource.region)
        if any(_watches(a.data, namespace, metric, dims) for dims in candidates)
    ]
    shown = " or ".join(",".join(f"{k}={v}" for k, v in d.items()) for d in candidates)
    assert watching, f"{resource.label} has no alarm on {namespace} {metric} ({shown})"
    notifying = [a for a in watching if a.get("ActionsEnabled", True) and a.get("AlarmActions")]
    assert notifying, (
        f"{resource.label}: alarm(s) {', '.join(a.id for a in watching)} on {metric} "
        "notify nobody (no AlarmActions, or actions disabled)"
    )


def _rds_dimensions(resource: Resource) -> list[dict[str, str]]:
    dims = [{"DBInstanceIdentifier": resource.id}]
    if is_cluster_member(resource):
        dims.append({"DBClusterIdentifier": str(resource.get("DBClusterIdentifier"))})
    return dims


def _work_queue(resource: Resource, env: Environment) -> bool:
    return not is_dead_letter_queue(resource)


def _dead_letter_queue(resource: Resource, env: Environment) -> bool:
    return is_dead_letter_queue(resource)


@pytest.mark.check(
    id="rds-cpu-alarm",
    title="Every RDS instance has a CPUUtilization alarm that notifies",
    category="monitoring",
    risk="A database pinned at 100 % CPU slows every request; without an alarm the first "
    "signal is users' complaints.",
    remediation=PUT_ALARM.format(
        ns="AWS/RDS",
        metric="CPUUtilization",
        dim="DBInstanceIdentifier",
        stat="Average",
        threshold=80,
        op="GreaterThanThreshold",
    ),
    references=[f"{CW_DOCS}/Best_Practice_Recommended_Alarms_AWS_Services.html#RDS"],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_cpu_alarm(inventory: Snapshot, resource: Resource) -> None:
    assert_alarmed(inventory, resource, "AWS/RDS", "CPUUtilization", _rds_dimensions(resource))


@pytest.mark.check(
    id="rds-free-storage-alarm",
    title="Every RDS instance has a FreeStorageSpace alarm that notifies",
    category="monitoring",
    risk="An instance that runs out of storage stops accepting writes "
    "(STORAGE_FULL); storage autoscaling has a ceiling and a 6-hour cool-down.",
    remediation=PUT_ALARM.format(
        ns="AWS/RDS",
        metric="FreeStorageSpace",
        dim="DBInstanceIdentifier",
        stat="Minimum",
        threshold=10737418240,
        op="LessThanThreshold",
    ),
    references=[f"{CW_DOCS}/Best_Practice_Recommended_Alarms_AWS_Services.html#RDS"],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_free_storage_alarm(inventory: Snapshot, resource: Resource) -> None:
    if str(resource.get("Engine", "")).startswith("aurora"):
        pytest.skip(f"not-applicable: {resource.label} is Aurora, whose cluster volume grows")
    assert_alarmed(inventory, resource, "AWS/RDS", "FreeStorageSpace", _rds_dimensions(resource))


@pytest.mark.check(
    id="sqs-oldest-message-alarm",
    title="Every SQS work queue has an ApproximateAgeOfOldestMessage alarm that notifies",
    category="monitoring",
    risk="When consumers stall, messages age silently until they expire at the retention "
    "period and are lost; the age of the oldest message is the earliest sign.",
    remediation=PUT_ALARM.format(
        ns="AWS/SQS",
        metric="ApproximateAgeOfOldestMessage",
        dim="QueueName",
        stat="Maximum",
        threshold=900,
        op="GreaterThanThreshold",
    ),
    references=[f"{CW_DOCS}/Best_Practice_Recommended_Alarms_AWS_Services.html#SQS"],
)
@pytest.mark.resources("sqs.queues", where=_work_queue)
def test_sqs_oldest_message_alarm(inventory: Snapshot, resource: Resource) -> None:
    assert_alarmed(
        inventory,
        resource,
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        [{"QueueName": resource.id}],
    )


@pytest.mark.check(
    id="sqs-dlq-depth-alarm",
    title="Every dead-letter queue has an ApproximateNumberOfMessagesVisible alarm that notifies",
    category="monitoring",
    risk="Messages in a DLQ are failures nobody has looked at; without an alarm on its depth "
    "they sit there until the retention period deletes them.",
    remediation=PUT_ALARM.format(
        ns="AWS/SQS",
        metric="ApproximateNumberOfMessagesVisible",
        dim="QueueName",
        stat="Maximum",
        threshold=0,
        op="GreaterThanThreshold",
    ),
    references=[f"{CW_DOCS}/Best_Practice_Recommended_Alarms_AWS_Services.html#SQS"],
)
@pytest.mark.resources("sqs.queues", where=_dead_letter_queue)
def test_sqs_dlq_depth_alarm(inventory: Snapshot, resource: Resource) -> None:
    assert_alarmed(
        inventory,
        resource,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [{"QueueName": resource.id}],
    )
