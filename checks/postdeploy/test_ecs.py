"""ECS after the deploy: rollout completed, every task running, none failed, no rollback."""

import datetime as dt
from typing import Any

import pytest

from readiness.inventory.model import NotEvaluated, Resource, Snapshot
from readiness.postdeploy.window import window_hours

pytestmark = [pytest.mark.postdeploy]
KIND = "ecs.services"
REFERENCES = [
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html"
]
ROLLBACK_WORDS = ("rolling back", "rolled back", "circuit breaker")


def _primary(resource: Resource) -> dict[str, Any]:
    deployments = resource.get("deployments")
    if deployments is None:
        raise NotEvaluated(f"{resource.label}: no deployments were returned")
    for deployment in deployments:
        if deployment.get("status") == "PRIMARY":
            return dict(deployment)
    raise NotEvaluated(f"{resource.label}: no PRIMARY deployment")


def _since(inventory: Snapshot) -> str:
    taken = dt.datetime.fromisoformat(inventory.taken_at)
    return (taken - dt.timedelta(hours=window_hours(inventory))).isoformat()


def _in_window(stamp: Any, since: str) -> bool:
    return stamp is None or str(stamp) >= since  # no date: count it (fail closed)


@pytest.mark.critical
@pytest.mark.check(
    id="ecs-rollout-completed",
    title="ECS services' PRIMARY deployment rollout is COMPLETED",
    category="postdeploy",
    risk="A rollout that failed or never finished leaves the old and new versions mixed, or "
    "the service short of tasks.",
    remediation="aws ecs describe-services --cluster CLUSTER --services NAME: read "
    "deployments[].rolloutStateReason and the service events.",
    references=REFERENCES,
)
@pytest.mark.resources(KIND)
def test_ecs_rollout_completed(resource: Resource) -> None:
    primary = _primary(resource)
    state = primary.get("rolloutState")
    if state is None:
        raise NotEvaluated(f"{resource.label}: the PRIMARY deployment has no rolloutState")
    assert state == "COMPLETED", (
        f"{resource.label}: rollout {state}: {primary.get('rolloutStateReason', '')}"
    )


@pytest.mark.critical
@pytest.mark.check(
    id="ecs-running-desired",
    title="ECS services run as many tasks as they desire",
    category="postdeploy",
    risk="Fewer running tasks than desired: capacity is short, tasks crash or cannot start.",
    remediation="Read the stopped tasks' stoppedReason (aws ecs list-tasks --desired-status "
    "STOPPED) and the service events.",
    references=REFERENCES,
)
@pytest.mark.resources(KIND)
def test_ecs_running_desired(resource: Resource) -> None:
    desired = resource.get("desiredCount")
    running = resource.get("runningCount")
    if desired is None or running is None:
        raise NotEvaluated(f"{resource.label}: desiredCount/runningCount were not returned")
    assert running == desired, f"{resource.label}: {running} of {desired} tasks running"


@pytest.mark.warning
@pytest.mark.check(
    id="ecs-no-failed-tasks",
    title="No ECS task failed to start in the window",
    category="postdeploy",
    risk="Tasks that fail to start are the early sign of a deployment the circuit breaker "
    "is about to roll back.",
    remediation="aws ecs list-tasks --desired-status STOPPED, then describe-tasks for the "
    "stoppedReason.",
    references=REFERENCES,
)
@pytest.mark.resources(KIND)
def test_ecs_no_failed_tasks(resource: Resource, inventory: Snapshot) -> None:
    since = _since(inventory)
    deployments = resource.get("deployments")
    if deployments is None:
        raise NotEvaluated(f"{resource.label}: no deployments were returned")
    failed = sum(
        int(d.get("failedTasks") or 0) for d in deployments if _in_window(d.get("updatedAt"), since)
    )
    assert failed == 0, (
        f"{resource.label}: {failed} tasks failed to start in the last {window_hours(inventory)} h"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="ecs-deployments-stable",
    title="No failed deployment or circuit-breaker rollback in the window",
    category="postdeploy",
    risk="A rollback by the circuit breaker means the new version did not hold: production "
    "runs the old one, and the next deploy will fail the same way.",
    remediation="Read the service events around the rollback; fix before deploying again.",
    references=REFERENCES,
)
@pytest.mark.resources(KIND)
def test_ecs_deployments_stable(resource: Resource, inventory: Snapshot) -> None:
    since = _since(inventory)
    deployments = resource.get("deployments")
    events = resource.get("events")
    if deployments is None or events is None:
        raise NotEvaluated(f"{resource.label}: deployments or events were not returned")
    failed = [
        d.get("id", "?")
        for d in deployments
        if d.get("rolloutState") == "FAILED" and _in_window(d.get("updatedAt"), since)
    ]
    rollbacks = [
        e.get("message", "")
        for e in events
        if _in_window(e.get("createdAt"), since)
        and any(w in str(e.get("message", "")).lower() for w in ROLLBACK_WORDS)
    ]
    assert not failed and not rollbacks, (
        f"{resource.label}: failed deployments {failed or 'none'}; rollbacks: "
        f"{'; '.join(rollbacks[:2]) or 'none'}"
    )
