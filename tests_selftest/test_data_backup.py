"""The AWS Backup coverage checks on the emulator, in two regions: a plan covers a
resource of its own region through ARNs, tags or conditions; exclusions and other
regions do not count; unreadable plans or selections are not-evaluated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .test_data_support import ACCOUNT, Taken, checks_of, environment, outcome, snapshot

KINDS = ("rds.db_instances", "dynamodb.tables", "backup.plans")
REGIONS = ("us-east-1", "us-west-2")
ROLE = f"arn:aws:iam::{ACCOUNT}:role/prod-backup"
RDS = "test_backup_plan_covers_rds"
DDB = "test_backup_plan_covers_dynamodb"


@dataclass
class Stack:
    taken: Taken
    selections_denied: Taken
    plans_denied: Taken
    checks: dict[str, Any]


def _db(rds: Any, name: str, **tags: str) -> str:
    return str(
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBInstanceClass="db.r6g.large",
            Engine="postgres",
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-password",
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["DBInstance"]["DBInstanceArn"]
    )


def _plan(backup: Any, name: str, *selections: dict[str, Any]) -> None:
    rule = {"RuleName": "daily", "TargetBackupVaultName": "Default"}
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [rule]})
    for i, selection in enumerate(selections):
        backup.create_backup_selection(
            BackupPlanId=plan["BackupPlanId"],
            BackupSelection={"SelectionName": f"{name}-{i}", "IamRoleArn": ROLE, **selection},
        )


@pytest.fixture(scope="module")
def stack(pytestconfig: pytest.Config) -> Iterator[Stack]:
    checks = checks_of(pytestconfig, "audit/operations/test_backups.py")
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        rds, ddb = control.client("rds"), control.client("dynamodb")
        named = _db(rds, "db-named")
        _db(rds, "db-tagged", backup="daily")
        _db(rds, "db-gold", tier="gold")
        excluded = _db(rds, "db-excluded", tier="gold")
        _db(rds, "db-silver", tier="silver")
        rds.create_db_cluster(
            DBClusterIdentifier="aur",
            Engine="aurora-postgresql",
            MasterUsername="admin_user",
            MasterUserPassword="not-a-real-password",
            Tags=[{"Key": "backup", "Value": "daily"}],
        )
        rds.create_db_instance(
            DBInstanceIdentifier="aur-1",
            DBClusterIdentifier="aur",
            DBInstanceClass="db.r6g.large",
            Engine="aurora-postgresql",
        )
        for table in ("t-named", "t-outside"):
            ddb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        _plan(
            control.client("backup"),
            "plan-east",
            {"Resources": [named, "arn:aws:dynamodb:*:*:table/t-named"]},
            {
                "ListOfTags": [
                    {
                        "ConditionType": "STRINGEQUALS",
                        "ConditionKey": "backup",
                        "ConditionValue": "daily",
                    }
                ]
            },
            {
                "Resources": ["arn:aws:rds:*:*:db:*"],
                "NotResources": [excluded],
                "Conditions": {
                    "StringEquals": [
                        {"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "gold"}
                    ]
                },
            },
        )
        # Everything, but in the other region: protects nothing in us-east-1.
        _plan(control.client("backup", "us-west-2"), "plan-west", {"Resources": ["*"]})
        env = environment(REGIONS)
        yield Stack(
            snapshot(emulator.endpoint, KINDS, env),
            snapshot(emulator.endpoint, KINDS, env, denied=[("backup", "GetBackupSelection")]),
            snapshot(emulator.endpoint, KINDS, env, denied=[("backup", "ListBackupPlans")]),
            checks,
        )


def _judge(stack: Stack, taken: Taken, check: str, kind: str, ident: str) -> tuple[str, str]:
    resource = taken.resource(kind, ident)
    return outcome(stack.checks[check], inventory=taken.snapshot, resource=resource)


@pytest.mark.parametrize(
    ("db", "covered"),
    [
        ("db-named", True),  # by ARN
        ("db-tagged", True),  # by ListOfTags
        ("db-gold", True),  # by ARN pattern AND condition
        ("db-excluded", False),  # NotResources
        ("db-silver", False),  # condition not met
        ("aur-1", True),  # through its cluster's tags
    ],
)
def test_rds_coverage(stack: Stack, db: str, covered: bool) -> None:
    result, text = _judge(stack, stack.taken, RDS, "rds.db_instances", db)
    if covered:
        assert (result, text) == ("passed", "")
    else:
        assert result == "failed"
        assert text.startswith(f"us-east-1/{db} is in no AWS Backup plan of us-east-1")


@pytest.mark.parametrize(("table", "covered"), [("t-named", True), ("t-outside", False)])
def test_dynamodb_coverage(stack: Stack, table: str, covered: bool) -> None:
    result, text = _judge(stack, stack.taken, DDB, "dynamodb.tables", table)
    assert result == ("passed" if covered else "failed")
    if not covered:
        assert text.startswith(f"us-east-1/{table} is in no AWS Backup plan of us-east-1")


def test_plans_are_regional(stack: Stack) -> None:
    plans = {(p.region, p.id) for p in stack.taken.snapshot.resources("backup.plans")}
    assert plans == {("us-east-1", "plan-east"), ("us-west-2", "plan-west")}


def test_unreadable_selections_are_not_evaluated(stack: Stack) -> None:
    result, text = _judge(stack, stack.selections_denied, RDS, "rds.db_instances", "db-named")
    assert result == "not-evaluated"
    assert "us-east-1/plan-east: Selections could not be read" in text


def test_unreadable_plans_are_not_evaluated(stack: Stack) -> None:
    result, text = _judge(stack, stack.plans_denied, DDB, "dynamodb.tables", "t-named")
    assert result == "not-evaluated"
    assert text.startswith("backup.plans in us-east-1:") and "access denied" in text


def test_each_request_once_and_read_only(stack: Stack) -> None:
    calls = stack.taken.calls
    assert calls["total_calls"] == calls["distinct_requests"] > 0
    assert calls["mutating_calls"] == []
    # One read per selection, no matter how many resources are judged against it.
    assert calls["by_operation"]["backup:GetBackupSelection"] == 4
