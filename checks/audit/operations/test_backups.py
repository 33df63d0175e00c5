"""Backups: RDS automated backup retention, and an AWS Backup plan over every stateful
resource (RDS instances, DynamoDB tables) of its own region.

A plan covers a resource when it has at least one rule and one of its selections
assigns the resource (see readiness.inventory.collectors.backup.selection_covers).
A read replica is left out of both: its data is backed up through its source. An
Aurora member is covered through its cluster, which is what AWS Backup protects.
The selections are judged with the resource types opted in, as they are by default.
"""

from collections.abc import Mapping

import pytest

from readiness.config import Environment, Thresholds
from readiness.inventory.collectors.backup import plans_covering
from readiness.inventory.collectors.rds import cluster, is_cluster_member, is_read_replica, setting
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.audit]
PLANS = "backup.plans"
BACKUP_DOCS = "https://docs.aws.amazon.com/aws-backup/latest/devguide"


def _not_replica(resource: Resource, env: Environment) -> bool:
    return not is_read_replica(resource)


def _plans_in(inventory: Snapshot, region: str) -> list[Resource]:
    gaps = [g for g in inventory.gaps(PLANS) if g.region == region]
    if gaps:
        raise NotEvaluated(gaps[0].message())
    return [p for p in inventory.resources(PLANS) if p.region == region]


def _assert_covered(
    inventory: Snapshot,
    resource: Resource,
    arn: str | None,
    tags: Mapping[str, str] | None,
    what: str,
) -> None:
    if not arn:
        raise NotEvaluated(f"{resource.label}: no ARN was reported for {what}")
    plans = _plans_in(inventory, resource.region)
    covering = plans_covering(plans, arn, tags, resource.label)
    assert covering, (
        f"{what} is in no AWS Backup plan of {resource.region} "
        f"({len(plans)} plan(s) there, none with a rule and a selection covering {arn})"
    )


@pytest.mark.critical
@pytest.mark.check(
    id="rds-backup-retention",
    title="RDS automated backups are kept at least thresholds.backup_retention_days",
    category="operations",
    risk="With short (or no) automated backups, a corruption noticed late cannot be restored "
    "to a point before it, and point-in-time restore covers only the retention window.",
    remediation="aws rds modify-db-instance --db-instance-identifier NAME "
    "--backup-retention-period 14 --apply-immediately  (terraform: backup_retention_period = 14;"
    " for a cluster member: aws rds modify-db-cluster --backup-retention-period 14)",
    references=[
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/db-instance-backup-enabled.html",
    ],
)
@pytest.mark.resources("rds.db_instances", where=_not_replica)
def test_rds_backup_retention(resource: Resource, thresholds: Thresholds) -> None:
    days, holder = setting(resource, "BackupRetentionPeriod")
    floor = thresholds.backup_retention_days
    assert isinstance(days, int), f"{holder} reports no backup retention period"
    assert days >= floor, f"{holder} keeps automated backups {days} day(s) (at least {floor})"


@pytest.mark.warning
@pytest.mark.check(
    id="backup-plan-covers-rds",
    title="An AWS Backup plan covers every RDS database",
    category="operations",
    risk="Automated RDS backups disappear with the instance and stay in one account and "
    "region; without a Backup plan there is no independent, policy-driven copy.",
    remediation="aws backup create-backup-selection --backup-plan-id PLAN_ID --backup-selection "
    '\'{"SelectionName":"rds","IamRoleArn":"ROLE_ARN","Resources":["DB_ARN"]}\'  '
    "(terraform: aws_backup_selection)",
    references=[f"{BACKUP_DOCS}/assigning-resources.html"],
)
@pytest.mark.resources("rds.db_instances", where=_not_replica)
def test_backup_plan_covers_rds(inventory: Snapshot, resource: Resource) -> None:
    if is_cluster_member(resource):
        described = cluster(resource)
        tags = {t["Key"]: t["Value"] for t in described.get("TagList") or [] if "Key" in t}
        what = f"{resource.label} (cluster {described.get('DBClusterIdentifier')})"
        _assert_covered(inventory, resource, described.get("DBClusterArn"), tags, what)
    else:
        _assert_covered(inventory, resource, resource.arn, resource.tags, resource.label)


@pytest.mark.warning
@pytest.mark.check(
    id="backup-plan-covers-dynamodb",
    title="An AWS Backup plan covers every DynamoDB table",
    category="operations",
    risk="PITR reaches back 35 days at most and goes with the table; without a Backup plan "
    "there are no longer-lived or independent copies of the table.",
    remediation="aws backup create-backup-selection --backup-plan-id PLAN_ID --backup-selection "
    '\'{"SelectionName":"dynamodb","IamRoleArn":"ROLE_ARN","Resources":["TABLE_ARN"]}\''
    "  (terraform: aws_backup_selection)",
    references=[f"{BACKUP_DOCS}/assigning-resources.html"],
)
@pytest.mark.resources("dynamodb.tables")
def test_backup_plan_covers_dynamodb(inventory: Snapshot, resource: Resource) -> None:
    _assert_covered(inventory, resource, resource.arn, resource.tags, resource.label)
