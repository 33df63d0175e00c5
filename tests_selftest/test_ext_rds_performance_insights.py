"""The emulator reports RDS Performance Insights as AWS does (moto drops it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

PI = (
    "PerformanceInsightsEnabled",
    "PerformanceInsightsRetentionPeriod",
    "PerformanceInsightsKMSKeyId",
)


@pytest.fixture(scope="module")
def rds() -> Iterator[Any]:
    with EmulatorProcess.start("empty") as emulator:
        yield EmulatorControl(emulator.endpoint).client("rds")


def _create(rds: Any, name: str, **extra: Any) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        **extra,
    )


def _insights(rds: Any, name: str) -> dict[str, Any]:
    db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
    return {k: db[k] for k in PI if k in db}


def test_off_by_default_and_reported_as_false(rds: Any) -> None:
    _create(rds, "pi-default")
    assert _insights(rds, "pi-default") == {"PerformanceInsightsEnabled": False}


def test_enabled_on_create_with_aws_defaults(rds: Any) -> None:
    _create(rds, "pi-create", EnablePerformanceInsights=True)
    seen = _insights(rds, "pi-create")
    assert seen["PerformanceInsightsEnabled"] is True
    assert seen["PerformanceInsightsRetentionPeriod"] == 7
    assert seen["PerformanceInsightsKMSKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/")


def test_deploy_phase_change_reads_back(rds: Any) -> None:
    """What phase 2 does: ModifyDBInstance(EnablePerformanceInsights, retention 7), then read."""
    _create(rds, "pi-modify")
    answer = rds.modify_db_instance(
        DBInstanceIdentifier="pi-modify",
        EnablePerformanceInsights=True,
        PerformanceInsightsRetentionPeriod=7,
        ApplyImmediately=True,
    )["DBInstance"]
    assert answer["PerformanceInsightsEnabled"] is True
    assert _insights(rds, "pi-modify")["PerformanceInsightsRetentionPeriod"] == 7
    # A later change of retention alone keeps it enabled; turning it off drops the details.
    rds.modify_db_instance(DBInstanceIdentifier="pi-modify", PerformanceInsightsRetentionPeriod=731)
    assert _insights(rds, "pi-modify")["PerformanceInsightsRetentionPeriod"] == 731
    rds.modify_db_instance(DBInstanceIdentifier="pi-modify", EnablePerformanceInsights=False)
    assert _insights(rds, "pi-modify") == {"PerformanceInsightsEnabled": False}


def test_given_kms_key_is_reported_as_an_arn(rds: Any) -> None:
    _create(
        rds, "pi-key", EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId="1234abcd-12ab"
    )
    key = _insights(rds, "pi-key")["PerformanceInsightsKMSKeyId"]
    assert key == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab"


@pytest.mark.parametrize("days", [1, 30, 32, 732, 744])
def test_invalid_retention_is_refused_and_changes_nothing(rds: Any, days: int) -> None:
    name = f"pi-bad-{days}"
    with pytest.raises(ClientError) as refused:
        _create(rds, name, EnablePerformanceInsights=True, PerformanceInsightsRetentionPeriod=days)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    names = [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]]
    assert name not in names

    _create(rds, name)
    with pytest.raises(ClientError) as refused:
        rds.modify_db_instance(
            DBInstanceIdentifier=name,
            EnablePerformanceInsights=True,
            PerformanceInsightsRetentionPeriod=days,
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert _insights(rds, name) == {"PerformanceInsightsEnabled": False}


@pytest.mark.parametrize("days", [7, 31, 93, 713, 731])
def test_valid_retention_is_kept(rds: Any, days: int) -> None:
    _create(
        rds,
        f"pi-ok-{days}",
        EnablePerformanceInsights=True,
        PerformanceInsightsRetentionPeriod=days,
    )
    assert _insights(rds, f"pi-ok-{days}")["PerformanceInsightsRetentionPeriod"] == days


def test_extension_is_installed() -> None:
    from readiness.emulator.extensions import ALL

    assert "rds_performance_insights" in {m.__name__.rsplit(".", 1)[-1] for m in ALL}
