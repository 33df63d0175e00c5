"""The ecs_services extension: services keep their deployment configuration and start
their tasks, as in AWS; `ecs-service-state` plants an unhealthy one."""

from collections.abc import Iterator
from typing import Any

import pytest

from readiness.emulator.control import ControlError, EmulatorControl
from readiness.emulator.extensions.ecs_services import merged_configuration
from readiness.emulator.process import EmulatorProcess

CLUSTER = "ext-cluster"


@pytest.fixture(scope="module")
def control() -> Iterator[EmulatorControl]:
    with EmulatorProcess.start("empty") as emulator:
        yield EmulatorControl(emulator.endpoint)


@pytest.fixture(scope="module")
def ecs(control: EmulatorControl) -> Any:
    ec2 = control.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")
    client = control.client("ecs")
    client.create_cluster(clusterName=CLUSTER)
    client.register_task_definition(
        family="ext", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 256}]
    )
    client.subnet_id = subnet["Subnet"]["SubnetId"]  # handed to the tests
    return client


def create(ecs: Any, name: str, **extra: Any) -> dict[str, Any]:
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition="ext",
        desiredCount=extra.pop("desiredCount", 2),
        launchType="FARGATE",
        # no securityGroups: AWS then uses the VPC's default group; moto used to answer 500
        networkConfiguration={"awsvpcConfiguration": {"subnets": [ecs.subnet_id]}},
        **extra,
    )
    return describe(ecs, name)


def describe(ecs: Any, name: str) -> dict[str, Any]:
    service: dict[str, Any] = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
    return service


def primary(service: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def test_create_keeps_the_deployment_configuration(ecs: Any) -> None:
    breaker = {"enable": True, "rollback": True}
    service = create(ecs, "kept", deploymentConfiguration={"deploymentCircuitBreaker": breaker})
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": breaker,
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }


def test_create_without_configuration_gets_aws_defaults(ecs: Any) -> None:
    service = create(ecs, "defaults")
    breaker = service["deploymentConfiguration"]["deploymentCircuitBreaker"]
    assert breaker == {"enable": False, "rollback": False}


def test_tasks_start_and_the_deployment_completes(ecs: Any) -> None:
    service = create(ecs, "started", desiredCount=3)
    assert (service["runningCount"], service["pendingCount"]) == (3, 0)
    deployment = primary(service)
    assert deployment["rolloutState"] == "COMPLETED"
    assert deployment["runningCount"] == deployment["desiredCount"] == 3


def test_update_merges_configuration_and_settles_the_new_count(ecs: Any) -> None:
    create(
        ecs,
        "updated",
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )
    ecs.update_service(
        cluster=CLUSTER,
        service="updated",
        desiredCount=4,
        deploymentConfiguration={"maximumPercent": 150},
    )
    service = describe(ecs, "updated")
    config = service["deploymentConfiguration"]
    assert config["maximumPercent"] == 150
    assert config["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["runningCount"] == 4
    assert primary(service)["runningCount"] == 4
    assert primary(service)["rolloutState"] == "COMPLETED"


def test_control_plants_a_failed_deployment(ecs: Any, control: EmulatorControl) -> None:
    create(ecs, "failing")
    answer = control.call(
        "ecs-service-state",
        cluster=CLUSTER,
        service="failing",
        runningCount=1,
        rolloutState="FAILED",
        failedTasks=3,
    )
    assert answer["runningCount"] == 1
    service = describe(ecs, "failing")
    assert service["runningCount"] == 1
    assert primary(service)["rolloutState"] == "FAILED"
    assert primary(service)["failedTasks"] == 3


def test_control_refuses_an_unknown_rollout_state(ecs: Any, control: EmulatorControl) -> None:
    create(ecs, "refused")
    with pytest.raises(ControlError, match="rolloutState"):
        control.call("ecs-service-state", cluster=CLUSTER, service="refused", rolloutState="OK")


def test_merge_keeps_fields_not_named() -> None:
    merged = merged_configuration(
        {"deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200},
        {"deploymentCircuitBreaker": {"rollback": False}},
    )
    assert merged == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": False},
        "maximumPercent": 200,
    }
