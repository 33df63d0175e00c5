"""The emulator serves AWS Backup selections (moto answers HTTP 500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

ROLE = "arn:aws:iam::123456789012:role/prod-backup"


@pytest.fixture(scope="module")
def control() -> Iterator[EmulatorControl]:
    with EmulatorProcess.start("empty") as emulator:
        yield EmulatorControl(emulator.endpoint)


def _plan(backup: Any, name: str) -> str:
    rule = {"RuleName": "daily", "TargetBackupVaultName": "Default"}
    answer = backup.create_backup_plan(BackupPlan={"BackupPlanName": name, "Rules": [rule]})
    return str(answer["BackupPlanId"])


def _selection(**extra: Any) -> dict[str, Any]:
    return {"SelectionName": "data", "IamRoleArn": ROLE, **extra}


def test_create_list_get_delete(control: EmulatorControl) -> None:
    backup = control.client("backup")
    plan = _plan(backup, "lifecycle")
    document = _selection(
        Resources=["arn:aws:rds:us-east-1:123456789012:db:prod-db"],
        NotResources=["arn:aws:rds:us-east-1:123456789012:db:scratch"],
        Conditions={
            "StringEquals": [{"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "daily"}]
        },
    )
    made = backup.create_backup_selection(BackupPlanId=plan, BackupSelection=document)
    assert made["BackupPlanId"] == plan and made["SelectionId"]

    listed = backup.list_backup_selections(BackupPlanId=plan)["BackupSelectionsList"]
    assert [(s["SelectionId"], s["SelectionName"], s["IamRoleArn"]) for s in listed] == [
        (made["SelectionId"], "data", ROLE)
    ]
    got = backup.get_backup_selection(BackupPlanId=plan, SelectionId=made["SelectionId"])
    assert got["BackupSelection"] == document
    assert got["CreationDate"] == made["CreationDate"]

    backup.delete_backup_selection(BackupPlanId=plan, SelectionId=made["SelectionId"])
    assert backup.list_backup_selections(BackupPlanId=plan)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as gone:
        backup.get_backup_selection(BackupPlanId=plan, SelectionId=made["SelectionId"])
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_list_paginates(control: EmulatorControl) -> None:
    backup = control.client("backup")
    plan = _plan(backup, "paged")
    for i in range(5):
        backup.create_backup_selection(
            BackupPlanId=plan, BackupSelection=_selection(SelectionName=f"s{i}", Resources=["*"])
        )
    pages = list(
        backup.get_paginator("list_backup_selections").paginate(
            BackupPlanId=plan, PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["BackupSelectionsList"]) for p in pages] == [2, 2, 1]
    names = [s["SelectionName"] for p in pages for s in p["BackupSelectionsList"]]
    assert names == ["s0", "s1", "s2", "s3", "s4"]


def test_selections_belong_to_their_plan_and_region(control: EmulatorControl) -> None:
    east, west = control.client("backup"), control.client("backup", "us-west-2")
    plan_a, plan_b = _plan(east, "plan-a"), _plan(east, "plan-b")
    east.create_backup_selection(BackupPlanId=plan_a, BackupSelection=_selection(Resources=["*"]))
    assert east.list_backup_selections(BackupPlanId=plan_b)["BackupSelectionsList"] == []
    with pytest.raises(ClientError) as elsewhere:
        west.list_backup_selections(BackupPlanId=plan_a)
    assert elsewhere.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("plan_id", "selection", "code"),
    [
        ("no-such-plan", _selection(), "ResourceNotFoundException"),
        (
            None,
            {"SelectionName": "bad name!", "IamRoleArn": ROLE},
            "InvalidParameterValueException",
        ),
    ],
)
def test_refusals(
    control: EmulatorControl, plan_id: str | None, selection: dict[str, Any], code: str
) -> None:
    backup = control.client("backup")
    plan = plan_id or _plan(backup, f"refusals-{code}")
    with pytest.raises(ClientError) as refused:
        backup.create_backup_selection(BackupPlanId=plan, BackupSelection=selection)
    assert refused.value.response["Error"]["Code"] == code


def test_deleted_plan_has_no_selections(control: EmulatorControl) -> None:
    backup = control.client("backup")
    plan = _plan(backup, "short-lived")
    backup.delete_backup_plan(BackupPlanId=plan)
    with pytest.raises(ClientError) as refused:
        backup.create_backup_selection(BackupPlanId=plan, BackupSelection=_selection())
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_reset_clears_selections(control: EmulatorControl) -> None:
    backup = control.client("backup")
    plan = _plan(backup, "before-reset")
    backup.create_backup_selection(BackupPlanId=plan, BackupSelection=_selection())
    control.reset()
    assert backup.list_backup_plans()["BackupPlansList"] == []
    plan = _plan(backup, "before-reset")
    assert backup.list_backup_selections(BackupPlanId=plan)["BackupSelectionsList"] == []
