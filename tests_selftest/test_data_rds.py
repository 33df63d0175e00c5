"""The RDS checks on the emulator: one compliant and one violating instance for each
criterion, Aurora members judged on their cluster, replicas left out of backups, and an
unreadable cluster making only the cluster-held criteria not-evaluated."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from readiness.config import Thresholds
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .test_data_support import Taken, alarm, checks_of, outcome, snapshot

KINDS = ("rds.db_instances", "cloudwatch.metric_alarms", "backup.plans")
GOOD, BAD = "us-east-1/good-db", "us-east-1/bad-db"


@dataclass
class Stack:
    taken: Taken
    clusters_denied: Taken
    checks: dict[str, Any]


def _instance(rds: Any, name: str, **settings: Any) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        **settings,
    )


@pytest.fixture(scope="module")
def stack(pytestconfig: pytest.Config) -> Iterator[Stack]:
    checks = checks_of(
        pytestconfig,
        "audit/infrastructure/test_rds.py",
        "audit/security/test_data_encryption.py",
        "audit/operations/test_backups.py",
        "audit/operations/test_maintenance.py",
        "audit/monitoring/test_data_alarms.py",
    )
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        rds = control.client("rds")
        _instance(
            rds,
            "good-db",
            MultiAZ=True,
            DeletionProtection=True,
            StorageEncrypted=True,
            PubliclyAccessible=False,
            BackupRetentionPeriod=14,
            EnablePerformanceInsights=True,
            AutoMinorVersionUpgrade=True,
        )
        _instance(
            rds,
            "bad-db",
            MultiAZ=False,
            DeletionProtection=False,
            StorageEncrypted=False,
            PubliclyAccessible=True,
            BackupRetentionPeriod=1,
            AutoMinorVersionUpgrade=False,
        )
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier="good-db-replica", SourceDBInstanceIdentifier="good-db"
        )
        # Aurora: one cluster protected and spread over two AZs, one neither.
        for cluster, protected in (("aurora-good", True), ("aurora-bad", False)):
            rds.create_db_cluster(
                DBClusterIdentifier=cluster,
                Engine="aurora-postgresql",
                MasterUsername="admin_user",
                MasterUserPassword="not-a-real-password",
                DeletionProtection=protected,
                StorageEncrypted=protected,
                BackupRetentionPeriod=14 if protected else 1,
            )
            zones = ("us-east-1a", "us-east-1b") if protected else ("us-east-1a",)
            for i, zone in enumerate(zones, 1):
                rds.create_db_instance(
                    DBInstanceIdentifier=f"{cluster}-{i}",
                    DBClusterIdentifier=cluster,
                    DBInstanceClass="db.r6g.large",
                    Engine="aurora-postgresql",
                    AvailabilityZone=zone,
                    PubliclyAccessible=False,
                )
        # Alarms: good-db fully, by a plain and a metric-math alarm; bad-db's CPU alarm
        # notifies nobody and it has no storage alarm; the Aurora CPU alarm is per cluster.
        alarm(control, "good-cpu", "AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": "good-db"})
        control.client("cloudwatch").put_metric_alarm(
            AlarmName="good-storage",
            EvaluationPeriods=1,
            Threshold=10.0,
            ComparisonOperator="LessThanThreshold",
            AlarmActions=["arn:aws:sns:us-east-1:123456789012:a"],
            Metrics=[
                {
                    "Id": "free",
                    "ReturnData": True,
                    "MetricStat": {
                        "Period": 300,
                        "Stat": "Minimum",
                        "Metric": {
                            "Namespace": "AWS/RDS",
                            "MetricName": "FreeStorageSpace",
                            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "good-db"}],
                        },
                    },
                }
            ],
        )
        alarm(
            control,
            "bad-cpu",
            "AWS/RDS",
            "CPUUtilization",
            {"DBInstanceIdentifier": "bad-db"},
            actions=False,
        )
        alarm(
            control,
            "wrong-dims",
            "AWS/RDS",
            "FreeStorageSpace",
            {"DBInstanceIdentifier": "bad-db", "Role": "WRITER"},
        )
        alarm(
            control,
            "aurora-cpu",
            "AWS/RDS",
            "CPUUtilization",
            {"DBClusterIdentifier": "aurora-good"},
        )
        taken = snapshot(emulator.endpoint, KINDS)
        denied = snapshot(emulator.endpoint, KINDS, denied=[("rds", "DescribeDBClusters")])
        yield Stack(taken, denied, checks)


def _judge(stack: Stack, check: str, label: str, **extra: Any) -> tuple[str, str]:
    region, ident = label.split("/")
    resource = stack.taken.resource("rds.db_instances", ident, region)
    return outcome(stack.checks[check], resource=resource, **extra)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("test_rds_multi_az", "us-east-1/bad-db is not Multi-AZ"),
        ("test_rds_deletion_protection", "us-east-1/bad-db has no deletion protection"),
        ("test_rds_performance_insights", "us-east-1/bad-db has Performance Insights off"),
        ("test_rds_storage_encrypted", "us-east-1/bad-db stores its data unencrypted"),
        ("test_rds_not_public", "us-east-1/bad-db is publicly accessible"),
        ("test_rds_auto_minor_version_upgrade", "us-east-1/bad-db does not take minor"),
    ],
)
def test_instance_criteria(stack: Stack, check: str, message: str) -> None:
    assert _judge(stack, check, GOOD) == ("passed", "")
    result, text = _judge(stack, check, BAD)
    assert result == "failed" and text.startswith(message), text


def test_backup_retention(stack: Stack) -> None:
    floor = Thresholds(backup_retention_days=7)
    check = "test_rds_backup_retention"
    assert _judge(stack, check, GOOD, thresholds=floor) == ("passed", "")
    result, text = _judge(stack, check, BAD, thresholds=floor)
    assert result == "failed"
    assert "us-east-1/bad-db keeps automated backups 1 day(s) (at least 7)" in text
    # Replicas are backed up through their source: not parametrised at all.
    assert "us-east-1/good-db-replica" not in stack.taken.selected(stack.checks[check])
    assert "us-east-1/good-db-replica" in stack.taken.selected(stack.checks["test_rds_multi_az"])


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        ("test_rds_multi_az", "passed", "cluster aurora-bad) is not Multi-AZ"),
        ("test_rds_deletion_protection", "passed", "cluster aurora-bad) has no deletion"),
        ("test_rds_storage_encrypted", "passed", "cluster aurora-bad) stores its data"),
    ],
)
def test_aurora_members_are_judged_on_their_cluster(
    stack: Stack, check: str, good: str, bad: str
) -> None:
    # The members themselves report MultiAZ and DeletionProtection false, as in AWS.
    member = stack.taken.resource("rds.db_instances", "aurora-good-1")
    assert member.get("DeletionProtection") is False
    assert _judge(stack, check, "us-east-1/aurora-good-1")[0] == good
    result, text = _judge(stack, check, "us-east-1/aurora-bad-1")
    assert result == "failed" and text.startswith("us-east-1/aurora-bad-1 (") and bad in text


def test_aurora_backup_retention_is_the_clusters(stack: Stack) -> None:
    floor = Thresholds(backup_retention_days=7)
    check = "test_rds_backup_retention"
    assert _judge(stack, check, "us-east-1/aurora-good-2", thresholds=floor)[0] == "passed"
    result, text = _judge(stack, check, "us-east-1/aurora-bad-1", thresholds=floor)
    assert result == "failed" and "(cluster aurora-bad) keeps automated backups 1" in text


def test_unreadable_cluster_is_not_evaluated_where_the_cluster_decides(stack: Stack) -> None:
    member = stack.clusters_denied.resource("rds.db_instances", "aurora-good-1")
    result, text = outcome(stack.checks["test_rds_deletion_protection"], resource=member)
    assert result == "not-evaluated"
    assert "us-east-1/aurora-good-1: DBCluster could not be read" in text
    assert "access denied" in text
    # What the instance holds itself is still judged.
    assert outcome(stack.checks["test_rds_not_public"], resource=member)[0] == "passed"
    standalone = stack.clusters_denied.resource("rds.db_instances", "good-db")
    assert outcome(stack.checks["test_rds_deletion_protection"], resource=standalone)[0] == "passed"


def test_alarms(stack: Stack) -> None:
    inventory = stack.taken.snapshot
    cpu, storage = "test_rds_cpu_alarm", "test_rds_free_storage_alarm"
    assert _judge(stack, cpu, GOOD, inventory=inventory) == ("passed", "")
    assert _judge(stack, storage, GOOD, inventory=inventory) == ("passed", "")  # metric math
    result, text = _judge(stack, cpu, BAD, inventory=inventory)
    assert (
        result == "failed"
        and "us-east-1/bad-db: alarm(s) bad-cpu on CPUUtilization notify nobody" in text
    )
    result, text = _judge(stack, storage, BAD, inventory=inventory)
    assert result == "failed"
    assert text.startswith("us-east-1/bad-db has no alarm on AWS/RDS FreeStorageSpace")
    # An Aurora member is watched through its cluster's dimension; storage is not its concern.
    assert _judge(stack, cpu, "us-east-1/aurora-good-1", inventory=inventory)[0] == "passed"
    assert _judge(stack, cpu, "us-east-1/aurora-bad-1", inventory=inventory)[0] == "failed"
    assert (
        _judge(stack, storage, "us-east-1/aurora-good-1", inventory=inventory)[0]
        == "not-applicable"
    )


def test_each_request_once_and_read_only(stack: Stack) -> None:
    calls = stack.taken.calls
    assert calls["total_calls"] == calls["distinct_requests"] > 0
    assert calls["mutating_calls"] == []
    # The members' cluster is read with one DescribeDBClusters, shared by all of them.
    assert calls["by_operation"]["rds:DescribeDBClusters"] == 1
