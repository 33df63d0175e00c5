"""ECS services that answer like AWS: deployment configuration kept, tasks that start.

moto drops `deploymentConfiguration` on CreateService (only UpdateService keeps it, and
then replaces the whole object), answers 500 when an awsvpc configuration names no
security group (AWS then uses the VPC's default group), and leaves every service with
no running task and its PRIMARY deployment IN_PROGRESS unless the server was started
with `MOTO_ECS_SERVICE_RUNNING`. Here a service keeps its deployment configuration (with
AWS's defaults: 200 % / 100 %, circuit breaker off), and its tasks start at once: after a
create, or an update that starts a deployment, `runningCount == desiredCount` and the
PRIMARY deployment is COMPLETED. Setting `MOTO_ECS_SERVICE_RUNNING` keeps moto's own rule.

Control call `ecs-service-state` plants an unhealthy service for tests and seeds:
`{"cluster", "service", "region"?, "runningCount"?, "rolloutState"?, "failedTasks"?}`.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from readiness.emulator.control import EMULATOR_ACCOUNT
from readiness.emulator.registry import Registry

DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
ROLLOUT_STATES = ("COMPLETED", "IN_PROGRESS", "FAILED")
_MARK = "_readiness_ecs_services"


def _moto_counts_tasks() -> bool:
    """moto's own knob decides the running count when it is set."""
    return "MOTO_ECS_SERVICE_RUNNING" in os.environ


def merged_configuration(current: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """UpdateService changes the fields it names and keeps the others."""
    out = copy.deepcopy(current or DEFAULT_DEPLOYMENT_CONFIGURATION)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _primary(service: Any) -> dict[str, Any] | None:
    for deployment in getattr(service, "deployments", []):
        if deployment.get("status") == "PRIMARY":
            return deployment  # type: ignore[no-any-return]
    return None


def set_state(
    backend: Any,
    service: Any,
    running: int,
    rollout: str = "COMPLETED",
    failed: int | None = None,
) -> None:
    """Give a service `running` tasks and its PRIMARY deployment `rollout`."""
    from moto.core.utils import utcnow

    cluster = backend._get_cluster(service.cluster_name)
    backend.update_cluster_resources(cluster, running - service.running_count, "RUNNING")
    pending = max(service.desired_count - running, 0) if rollout == "IN_PROGRESS" else 0
    backend.update_cluster_resources(cluster, pending - service.pending_count, "PENDING")
    service.running_count = running
    service.pending_count = pending
    deployment = _primary(service)
    if deployment is None:
        return
    reason = {
        "COMPLETED": "completed.",
        "IN_PROGRESS": "in progress.",
        "FAILED": "failed: tasks failed to start.",
    }[rollout]
    deployment.update(
        desiredCount=service.desired_count,
        runningCount=running,
        pendingCount=pending,
        rolloutState=rollout,
        rolloutStateReason=f"ECS deployment {deployment['id']} {reason}",
        taskDefinition=service.task_definition,
        updatedAt=utcnow(),
    )
    if failed is not None:
        deployment["failedTasks"] = failed


def _patch_network_validation() -> None:
    from moto.ecs.models import Service

    original = Service._validate_network

    def validate(self: Any, nc: dict[str, Any]) -> Any:
        vpc = nc.get("awsvpcConfiguration", {})
        if "securityGroups" not in vpc:
            original(self, {**nc, "awsvpcConfiguration": {**vpc, "securityGroups": []}})
            return nc
        return original(self, nc)

    owner: Any = Service
    owner._validate_network = validate


def _patch_create() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.create_service

    def create_service(self: Any) -> Any:
        result: Any = original(self)
        service: Any = result.result["service"]
        given = self._get_param("deploymentConfiguration") or {}
        service.deployment_configuration = merged_configuration(None, given)
        if not _moto_counts_tasks():
            set_state(self.ecs_backend, service, service.desired_count)
        return result

    owner: Any = EC2ContainerServiceResponse
    owner.create_service = create_service


def _patch_update() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.update_service

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        given = dict(service_properties)
        cluster = given.get("cluster", "default")
        name = str(given.get("service", "")).split("/")[-1]
        before = copy.deepcopy(
            getattr(self._get_service(cluster, name), "deployment_configuration", None)
        )
        service: Any = original(self, service_properties)
        if given.get("deployment_configuration") is not None:
            service.deployment_configuration = merged_configuration(
                before, given["deployment_configuration"]
            )
        redeploys = given.get("desired_count") is not None or any(
            given.get(key) for key in ("task_definition", "force_new_deployment")
        )
        if redeploys and not _moto_counts_tasks():
            set_state(self, service, service.desired_count)
        return service

    owner: Any = EC2ContainerServiceBackend
    owner.update_service = update_service


def _control_state(payload: dict[str, Any]) -> dict[str, Any]:
    from moto.ecs.models import ecs_backends

    region = str(payload.get("region", "us-east-1"))
    backend = ecs_backends[EMULATOR_ACCOUNT][region]
    service = backend._get_service(str(payload["cluster"]), str(payload["service"]))
    rollout = str(payload.get("rolloutState", "COMPLETED"))
    if rollout not in ROLLOUT_STATES:
        raise ValueError(f"rolloutState must be one of {', '.join(ROLLOUT_STATES)}")
    running = int(payload.get("runningCount", service.desired_count))
    if running < 0:
        raise ValueError("runningCount must not be negative")
    failed = payload.get("failedTasks")
    set_state(backend, service, running, rollout, None if failed is None else int(failed))
    return {
        "service": service.arn,
        "desiredCount": service.desired_count,
        "runningCount": service.running_count,
        "rolloutState": rollout,
    }


def install(registry: Registry) -> None:
    from moto.ecs.models import Service

    if not getattr(Service, _MARK, False):  # moto's classes are patched once per process
        _patch_network_validation()
        _patch_create()
        _patch_update()
        setattr(Service, _MARK, True)
    registry.control("ecs-service-state", _control_state)
