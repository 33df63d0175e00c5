"""DynamoDB recoverability and housekeeping: PITR, deletion protection, TTL."""

import pytest

from readiness.config import Environment
from readiness.inventory.model import Resource, Snapshot

pytestmark = [pytest.mark.audit]
DDB_DOCS = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide"


@pytest.mark.critical
@pytest.mark.check(
    id="dynamodb-pitr",
    title="DynamoDB tables have point-in-time recovery",
    category="infrastructure",
    risk="Without PITR a bad deploy or a faulty batch job that overwrites items can only be "
    "undone from the last on-demand backup, if there is one.",
    remediation="aws dynamodb update-continuous-backups --table-name NAME "
    "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true  "
    "(terraform: point_in_time_recovery { enabled = true })",
    references=[
        f"{DDB_DOCS}/PointInTimeRecovery.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/dynamodb-pitr-enabled.html",
    ],
)
@pytest.mark.resources("dynamodb.tables")
def test_dynamodb_pitr(resource: Resource) -> None:
    backups = resource.need("ContinuousBackups") or {}
    status = (backups.get("PointInTimeRecoveryDescription") or {}).get(
        "PointInTimeRecoveryStatus", "DISABLED"
    )
    assert status == "ENABLED", f"{resource.label} has point-in-time recovery {status}"


@pytest.mark.warning
@pytest.mark.check(
    id="dynamodb-deletion-protection",
    title="DynamoDB tables have deletion protection",
    category="infrastructure",
    risk="A mistaken DeleteTable removes the table and its data at once; PITR backups of a "
    "deleted table are kept only 35 days.",
    remediation="aws dynamodb update-table --table-name NAME --deletion-protection-enabled  "
    "(terraform: deletion_protection_enabled = true)",
    references=[
        f"{DDB_DOCS}/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection"
    ],
)
@pytest.mark.resources("dynamodb.tables")
def test_dynamodb_deletion_protection(resource: Resource) -> None:
    # Off unless turned on: a table that does not report it has none.
    protected = resource.get("DeletionProtectionEnabled", False)
    assert protected is True, f"{resource.label} has no deletion protection"


@pytest.mark.warning
@pytest.mark.check(
    id="dynamodb-ttl",
    title="Tables named in [expect.ttl] expire items on their TTL attribute",
    category="infrastructure",
    risk="Without TTL, items meant to be short-lived (sessions, tokens) pile up forever: the "
    "table and its bill keep growing and stale data stays readable.",
    remediation="aws dynamodb update-time-to-live --table-name NAME "
    "--time-to-live-specification Enabled=true,AttributeName=ATTRIBUTE  "
    '(terraform: ttl { attribute_name = "ATTRIBUTE", enabled = true })',
    references=[f"{DDB_DOCS}/TTL.html"],
)
@pytest.mark.expected("ttl")
def test_dynamodb_ttl(inventory: Snapshot, environment: Environment, expected_name: str) -> None:
    attribute = environment.expect.ttl[expected_name]
    tables = [t for t in inventory.require("dynamodb.tables") if t.id == expected_name]
    regions = ", ".join(inventory.target.regions)
    assert tables, f"DynamoDB table {expected_name} (TTL on {attribute}) not found in {regions}"
    problems = []
    for table in tables:
        ttl = table.need("TimeToLive") or {}
        status = ttl.get("TimeToLiveStatus", "DISABLED")
        name = ttl.get("AttributeName")
        if status not in ("ENABLED", "ENABLING"):
            problems.append(f"{table.label} has TTL {status} (expected on {attribute})")
        elif name != attribute:
            problems.append(f"{table.label} expires items on {name}, not {attribute}")
    assert not problems, "; ".join(problems)
