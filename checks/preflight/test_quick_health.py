"""Seed step 2, `quick-infrastructure-check.sh`: what the deployment expects is there."""

import pytest

from readiness.inventory.model import Snapshot

pytestmark = [pytest.mark.preflight, pytest.mark.critical]


def _names(inventory: Snapshot, kind: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for r in inventory.require(kind):
        found.setdefault(r.id, []).append(r.region)
    return found


@pytest.mark.check(
    id="preflight-ecs-cluster-active",
    title="Each expected ECS cluster exists and is ACTIVE",
    category="preflight",
    risk="Services cannot be deployed to a cluster that is missing or draining.",
    remediation="Create the cluster or fix the name under [environments.NAME.expect].",
)
@pytest.mark.expected("ecs_clusters")
def test_ecs_cluster_active(inventory: Snapshot, expected_name: str) -> None:
    clusters = [r for r in inventory.require("ecs.clusters") if r.id == expected_name]
    assert clusters, (
        f"ECS cluster {expected_name} not found in {', '.join(inventory.target.regions)}"
    )
    statuses = {f"{c.region}: {c.get('status')}" for c in clusters if c.get("status") != "ACTIVE"}
    assert not statuses, f"ECS cluster {expected_name} is not ACTIVE ({'; '.join(statuses)})"


@pytest.mark.check(
    id="preflight-sqs-queue-exists",
    title="Each expected SQS queue exists",
    category="preflight",
    risk="Producers and consumers fail at once when their queue is missing.",
    remediation="Create the queue or fix the name under [environments.NAME.expect].",
)
@pytest.mark.expected("sqs_queues")
def test_sqs_queue_exists(inventory: Snapshot, expected_name: str) -> None:
    assert expected_name in _names(inventory, "sqs.queues"), f"SQS queue {expected_name} not found"


@pytest.mark.check(
    id="preflight-dynamodb-table-active",
    title="Each expected DynamoDB table exists and is ACTIVE",
    category="preflight",
    risk="Requests against a missing or still-creating table fail.",
    remediation="Create the table or wait for it to become ACTIVE.",
)
@pytest.mark.expected("dynamodb_tables")
def test_dynamodb_table_active(inventory: Snapshot, expected_name: str) -> None:
    tables = [r for r in inventory.require("dynamodb.tables") if r.id == expected_name]
    assert tables, f"DynamoDB table {expected_name} not found"
    bad = [
        f"{t.region}: {t.get('TableStatus')}" for t in tables if t.get("TableStatus") != "ACTIVE"
    ]
    assert not bad, f"DynamoDB table {expected_name} is not ACTIVE ({'; '.join(bad)})"


@pytest.mark.check(
    id="preflight-budget-exists",
    title="Each expected budget exists",
    category="preflight",
    risk="Without the budget nobody hears of a cost overrun until the bill.",
    remediation="Create the budget in AWS Budgets or fix the name in readiness.toml.",
)
@pytest.mark.expected("budgets")
def test_budget_exists(inventory: Snapshot, expected_name: str) -> None:
    assert expected_name in _names(inventory, "budgets.budgets"), (
        f"budget {expected_name} not found"
    )


@pytest.mark.check(
    id="preflight-alarm-exists",
    title="Each expected CloudWatch alarm exists",
    category="preflight",
    risk="A release watched by an alarm that is not there fails silently.",
    remediation="Create the alarm (terraform apply of the monitoring module) or fix the "
    "name under [environments.NAME.expect].",
)
@pytest.mark.expected("alarms")
def test_alarm_exists(inventory: Snapshot, expected_name: str) -> None:
    assert expected_name in _names(inventory, "cloudwatch.metric_alarms"), (
        f"CloudWatch alarm {expected_name} not found in {', '.join(inventory.target.regions)}"
    )


@pytest.mark.check(
    id="preflight-canary-exists",
    title="Each expected CloudWatch Synthetics canary exists",
    category="preflight",
    risk="The post-deploy validation judges the canaries' success rate: without them "
    "there is nothing to judge.",
    remediation="Create the canary (aws synthetics create-canary ...) or fix the name "
    "under [environments.NAME.expect].",
)
@pytest.mark.expected("canaries")
def test_canary_exists(inventory: Snapshot, expected_name: str) -> None:
    assert expected_name in _names(inventory, "synthetics.canaries"), (
        f"canary {expected_name} not found in {', '.join(inventory.target.regions)}"
    )
