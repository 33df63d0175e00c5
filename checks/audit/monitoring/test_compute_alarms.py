"""Alarms on compute: ECS service CPU and memory, Lambda errors, each notifying someone."""

import pytest

from readiness.config import Environment
from readiness.inventory.collectors.cloudwatch_alarms import alarms_in, alarms_on, notifies
from readiness.inventory.model import Resource, Snapshot

pytestmark = [pytest.mark.audit, pytest.mark.warning]

ECS_METRICS = {
    # AWS/ECS service metrics, and their Container Insights counterparts.
    "cpu": {"AWS/ECS": ("CPUUtilization",), "ECS/ContainerInsights": ("CpuUtilized",)},
    "memory": {"AWS/ECS": ("MemoryUtilization",), "ECS/ContainerInsights": ("MemoryUtilized",)},
}


def active(resource: Resource, env: Environment) -> bool:
    return resource.get("status") == "ACTIVE"


def assert_alarmed(
    resource: Resource,
    inventory: Snapshot,
    metrics: dict[str, tuple[str, ...]],
    dimensions: dict[str, str],
    what: str,
) -> None:
    alarms = alarms_in(inventory, resource.region)
    found = [
        alarm
        for namespace, names in metrics.items()
        for alarm in alarms_on(alarms, namespace, names, dimensions)
    ]
    assert found, f"{resource.label} has no {what} alarm"
    assert any(notifies(a) for a in found), (
        f"{resource.label}: its {what} alarms ({', '.join(a.id for a in found)}) "
        "have no enabled alarm action, so they notify nobody"
    )


def ecs_dimensions(resource: Resource) -> dict[str, str]:
    return {
        "ClusterName": str(resource.get("ClusterName")),
        "ServiceName": str(resource.get("serviceName")),
    }


@pytest.mark.check(
    id="ecs-service-cpu-alarm",
    title="ECS services have a CPU utilisation alarm",
    category="monitoring",
    risk="A service pinned at full CPU answers slowly or times out, and nobody is told "
    "until users complain.",
    remediation="aws cloudwatch put-metric-alarm --alarm-name SERVICE-cpu-high "
    "--namespace AWS/ECS --metric-name CPUUtilization --dimensions Name=ClusterName,"
    "Value=CLUSTER Name=ServiceName,Value=SERVICE --statistic Average --period 60 "
    "--evaluation-periods 5 --threshold 80 --comparison-operator GreaterThanThreshold "
    "--alarm-actions TOPIC_ARN",
    references=[
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Best-Practice-Alarms.html",
    ],
)
@pytest.mark.resources("ecs.services", where=active)
def test_ecs_service_cpu_alarm(resource: Resource, inventory: Snapshot) -> None:
    assert_alarmed(resource, inventory, ECS_METRICS["cpu"], ecs_dimensions(resource), "CPU")


@pytest.mark.check(
    id="ecs-service-memory-alarm",
    title="ECS services have a memory utilisation alarm",
    category="monitoring",
    risk="A task that reaches its memory limit is killed and restarted; a leak shows only as "
    "restarts and errors unless memory is alarmed on.",
    remediation="aws cloudwatch put-metric-alarm --alarm-name SERVICE-memory-high "
    "--namespace AWS/ECS --metric-name MemoryUtilization --dimensions Name=ClusterName,"
    "Value=CLUSTER Name=ServiceName,Value=SERVICE --statistic Average --period 60 "
    "--evaluation-periods 5 --threshold 85 --comparison-operator GreaterThanThreshold "
    "--alarm-actions TOPIC_ARN",
    references=[
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Best-Practice-Alarms.html",
    ],
)
@pytest.mark.resources("ecs.services", where=active)
def test_ecs_service_memory_alarm(resource: Resource, inventory: Snapshot) -> None:
    assert_alarmed(resource, inventory, ECS_METRICS["memory"], ecs_dimensions(resource), "memory")


@pytest.mark.check(
    id="lambda-errors-alarm",
    title="Lambda functions have an Errors alarm",
    category="monitoring",
    risk="Lambda errors are silent unless alarmed on: a failing function keeps failing "
    "(and, for asynchronous events, retrying and dropping work) unnoticed.",
    remediation="aws cloudwatch put-metric-alarm --alarm-name FUNCTION-errors "
    "--namespace AWS/Lambda --metric-name Errors --dimensions Name=FunctionName,Value=FUNCTION "
    "--statistic Sum --period 300 --evaluation-periods 1 --threshold 1 "
    "--comparison-operator GreaterThanOrEqualToThreshold --alarm-actions TOPIC_ARN",
    references=[
        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Best-Practice-Alarms.html",
    ],
)
@pytest.mark.resources("lambda.functions")
def test_lambda_errors_alarm(resource: Resource, inventory: Snapshot) -> None:
    assert_alarmed(
        resource, inventory, {"AWS/Lambda": ("Errors",)}, {"FunctionName": resource.id}, "Errors"
    )
