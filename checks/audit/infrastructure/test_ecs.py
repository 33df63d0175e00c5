"""ECS: deployments that roll back, enough tasks in more than one AZ, autoscaling, and
Container Insights on the clusters."""

import pytest

from readiness.config import Environment, Thresholds
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.audit]

TARGETS = "autoscaling.ecs_targets"


def active(resource: Resource, env: Environment) -> bool:
    """Services and clusters that run: ECS keeps INACTIVE ones listed for a while."""
    return resource.get("status") == "ACTIVE"


def replica(resource: Resource) -> None:
    """DAEMON services run one task per container instance: counts and scaling do not apply."""
    strategy = resource.get("schedulingStrategy", "REPLICA")
    if strategy == "DAEMON":
        pytest.skip(f"not-applicable: {resource.label} is a DAEMON service (one task per instance)")


@pytest.mark.critical
@pytest.mark.check(
    id="ecs-service-circuit-breaker",
    title="ECS services roll back failed deployments (circuit breaker with rollback)",
    category="infrastructure",
    risk="Without the deployment circuit breaker a revision whose tasks never become healthy "
    "keeps being retried while healthy tasks are drained; without rollback the service is "
    "left on the failed revision. Either way a bad deploy becomes an outage.",
    remediation="aws ecs update-service --cluster CLUSTER --service SERVICE "
    "--deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true}' "
    "(terraform: deployment_circuit_breaker { enable = true, rollback = true })",
    references=[
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html"
    ],
)
@pytest.mark.resources("ecs.services", where=active)
def test_ecs_service_circuit_breaker(resource: Resource) -> None:
    controller = (resource.get("deploymentController") or {}).get("type", "ECS")
    if controller != "ECS":
        pytest.skip(
            f"not-applicable: {resource.label} deploys with {controller}, "
            "not the rolling update the circuit breaker guards"
        )
    config = resource.get("deploymentConfiguration") or {}
    breaker = config.get("deploymentCircuitBreaker") or {}
    assert breaker.get("enable") is True, (
        f"{resource.label}: the deployment circuit breaker is off"
        + ("" if breaker else " (not configured)")
    )
    assert breaker.get("rollback") is True, (
        f"{resource.label}: the circuit breaker stops failed deployments but does not roll back"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="ecs-service-min-tasks",
    title="ECS services run at least the minimum number of tasks",
    category="infrastructure",
    risk="A service with a single task is down whenever that task is replaced, crashes or "
    "its host or AZ fails, and every deployment of it is an outage.",
    remediation="aws ecs update-service --cluster CLUSTER --service SERVICE --desired-count 2 "
    "(terraform: desired_count = 2)",
    references=[
        "https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/availability.html"
    ],
)
@pytest.mark.resources("ecs.services", where=active)
def test_ecs_service_min_tasks(resource: Resource, thresholds: Thresholds) -> None:
    replica(resource)
    desired = resource.get("desiredCount")
    if not isinstance(desired, int):
        raise NotEvaluated(f"{resource.label}: no desiredCount in the service description")
    minimum = thresholds.min_ecs_desired_count
    assert desired >= minimum, (
        f"{resource.label}: desired count {desired} is below the minimum of {minimum}"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="ecs-service-multi-az",
    title="ECS services place tasks in more than one Availability Zone",
    category="infrastructure",
    risk="When every subnet of a service is in one AZ, an outage of that AZ stops all of its "
    "tasks at once, however many there are.",
    remediation="aws ecs update-service --cluster CLUSTER --service SERVICE "
    "--network-configuration 'awsvpcConfiguration={subnets=[SUBNET_AZ_A,SUBNET_AZ_B]}' "
    "(terraform: network_configuration { subnets = [one per AZ] })",
    references=[
        "https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/availability.html",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-placement.html",
    ],
)
@pytest.mark.resources("ecs.services", where=active)
def test_ecs_service_multi_az(resource: Resource) -> None:
    vpc = (resource.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    if not vpc.get("subnets"):
        raise NotEvaluated(
            f"{resource.label} has no awsvpc subnets: its tasks' AZs follow its container "
            "instances, which this audit does not read"
        )
    zones: dict[str, str | None] = resource.need("SubnetZones") or {}
    unknown = sorted(s for s, zone in zones.items() if not zone)
    known = sorted({zone for zone in zones.values() if zone})
    assert len(known) >= 2, (
        f"{resource.label}: its subnets are all in {', '.join(known) or 'no known AZ'}"
        + (f" (subnets not found: {', '.join(unknown)})" if unknown else "")
    )


@pytest.mark.warning
@pytest.mark.check(
    id="ecs-service-autoscaling",
    title="ECS services have an autoscaling target with a safe minimum",
    category="infrastructure",
    risk="Without a scalable target the service cannot follow load; a minimum capacity below "
    "the task minimum lets scale-in remove the redundancy the service relies on.",
    remediation="aws application-autoscaling register-scalable-target --service-namespace ecs "
    "--resource-id service/CLUSTER/SERVICE --scalable-dimension ecs:service:DesiredCount "
    "--min-capacity 2 --max-capacity 10 (terraform: aws_appautoscaling_target)",
    references=[
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html"
    ],
)
@pytest.mark.resources("ecs.services", where=active)
def test_ecs_service_autoscaling(
    resource: Resource, inventory: Snapshot, thresholds: Thresholds
) -> None:
    replica(resource)
    for gap in inventory.gaps(TARGETS):
        if gap.region == resource.region:
            raise NotEvaluated(gap.message())
    wanted = f"service/{resource.id}"
    targets = [t for t in inventory.resources(TARGETS) if t.region == resource.region]
    target = next((t for t in targets if t.id == wanted), None)
    assert target is not None, f"{resource.label} has no Application Auto Scaling target"
    minimum = thresholds.min_ecs_desired_count
    low = target.get("MinCapacity")
    assert isinstance(low, int) and low >= minimum, (
        f"{resource.label}: autoscaling minimum capacity {low} is below {minimum}"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="ecs-cluster-container-insights",
    title="ECS clusters have Container Insights enabled",
    category="infrastructure",
    risk="Without Container Insights there are no per-task CPU, memory, network and restart "
    "metrics: a failing deployment or a memory leak is seen late, from outside.",
    remediation="aws ecs update-cluster-settings --cluster CLUSTER "
    "--settings name=containerInsights,value=enhanced "
    '(terraform: setting { name = "containerInsights", value = "enhanced" })',
    references=[
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-container-insights.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/ecs-container-insights-enabled.html",
    ],
)
@pytest.mark.resources("ecs.clusters", where=active)
def test_ecs_cluster_container_insights(resource: Resource) -> None:
    settings = {
        s.get("name"): s.get("value") for s in resource.get("settings") or [] if isinstance(s, dict)
    }
    value = settings.get("containerInsights")
    # "enhanced" is the newer, more detailed level; both collect the metrics.
    assert value in ("enabled", "enhanced"), (
        f"{resource.label}: Container Insights is {value or 'not set (disabled)'}"
    )
