"""The emulator's additions for observability and cost: Cost Explorer figures
(GetCostAndUsage, GetCostForecast), cost-allocation tags (UpdateCostAllocationTagsStatus,
ListCostAllocationTags), canary StartCanary/StopCanary, and Budgets'
DescribeSubscribersForNotification, each answered the way AWS answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from readiness.emulator import EmulatorProcess
from readiness.emulator.control import ControlError, EmulatorControl

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def control() -> Iterator[EmulatorControl]:
    with EmulatorProcess.start("empty") as emulator:
        yield EmulatorControl(emulator.endpoint)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# -- Cost Explorer --------------------------------------------------------------------------


def test_cost_explorer_without_a_model_has_no_figures(control: EmulatorControl) -> None:
    control.call("cost-explorer")  # {} removes any model
    ce = control.client("ce")
    today = dt.datetime.now(dt.UTC).date()
    answer = ce.get_cost_and_usage(
        TimePeriod={"Start": (today - dt.timedelta(days=3)).isoformat(), "End": today.isoformat()},
        Granularity="DAILY",
        Metrics=["UnblendedCost"],
    )
    assert [r["Total"] for r in answer["ResultsByTime"]] == [{}, {}, {}]
    with pytest.raises(ClientError) as exc:
        ce.get_cost_forecast(
            TimePeriod={
                "Start": (today + dt.timedelta(days=1)).isoformat(),
                "End": (today + dt.timedelta(days=5)).isoformat(),
            },
            Metric="UNBLENDED_COST",
            Granularity="DAILY",
        )
    assert _code(exc) == "DataUnavailableException"


def test_cost_explorer_answers_from_the_planted_model(control: EmulatorControl) -> None:
    today = dt.datetime.now(dt.UTC).date()
    since = today - dt.timedelta(days=9)
    control.call("cost-explorer", daily_usd=2.5, forecast_daily_usd=4, since=since.isoformat())
    ce = control.client("ce")
    daily = ce.get_cost_and_usage(
        TimePeriod={
            "Start": (today - dt.timedelta(days=11)).isoformat(),
            "End": (today + dt.timedelta(days=1)).isoformat(),
        },
        Granularity="DAILY",
        Metrics=["UnblendedCost", "AmortizedCost"],
    )["ResultsByTime"]
    amounts = [float(r["Total"]["UnblendedCost"]["Amount"]) for r in daily]
    assert amounts == [0.0, 0.0] + [2.5] * 10  # nothing before `since`, today included
    assert daily[-1]["Total"]["AmortizedCost"] == {"Amount": "2.5", "Unit": "USD"}
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    monthly = ce.get_cost_and_usage(
        TimePeriod={"Start": first.isoformat(), "End": following.isoformat()},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
    )["ResultsByTime"]
    assert len(monthly) == 1 and monthly[0]["Estimated"] is True
    spent_days = sum(1 for n in range(today.day) if first + dt.timedelta(days=n) >= since)
    assert float(monthly[0]["Total"]["UnblendedCost"]["Amount"]) == 2.5 * spent_days
    forecast = ce.get_cost_forecast(
        TimePeriod={
            "Start": (today + dt.timedelta(days=1)).isoformat(),
            "End": (today + dt.timedelta(days=4)).isoformat(),
        },
        Metric="UNBLENDED_COST",
        Granularity="DAILY",
    )
    assert forecast["Total"] == {"Amount": "12", "Unit": "USD"}
    assert [f["MeanValue"] for f in forecast["ForecastResultsByTime"]] == ["4", "4", "4"]


@pytest.mark.parametrize(
    ("period", "granularity"),
    [
        ({"Start": "2026-05-02", "End": "2026-05-01"}, "MONTHLY"),
        ({"Start": "2026-05-01", "End": "2026-05-01"}, "DAILY"),
        ({"Start": "2026-05-01", "End": "2026-06-01"}, "HOURLY"),
    ],
)
def test_cost_explorer_refuses_bad_periods(
    control: EmulatorControl, period: dict[str, str], granularity: str
) -> None:
    control.call("cost-explorer", daily_usd=1)
    with pytest.raises(ClientError) as exc:
        control.client("ce").get_cost_forecast(
            TimePeriod=period, Metric="UNBLENDED_COST", Granularity=granularity
        )
    assert _code(exc) == "ValidationException"


def test_cost_explorer_refuses_negative_costs(control: EmulatorControl) -> None:
    with pytest.raises(ControlError, match="cannot be negative"):
        control.call("cost-explorer", daily_usd=-1)


# -- canary state ---------------------------------------------------------------------------


def _state(control: EmulatorControl, name: str) -> dict[str, Any]:
    canaries = control.client("synthetics").describe_canaries(Names=[name])["Canaries"]
    return dict(canaries[0])


def test_cost_allocation_tags_are_set_listed_filtered_and_paged(
    control: EmulatorControl,
) -> None:
    ce = control.client("ce")
    answer = ce.update_cost_allocation_tags_status(
        CostAllocationTagsStatus=[
            {"TagKey": "Team", "Status": "Active"},
            {"TagKey": "Stage", "Status": "Inactive"},
            {"TagKey": "Bad", "Status": "Maybe"},
        ]
    )
    assert [e["TagKey"] for e in answer["Errors"]] == ["Bad"]
    control.call("cost-allocation-tags", **{"aws:createdBy": "Active"})
    rows = ce.list_cost_allocation_tags()["CostAllocationTags"]
    assert [(r["TagKey"], r["Type"], r["Status"]) for r in rows] == [
        ("Stage", "UserDefined", "Inactive"),
        ("Team", "UserDefined", "Active"),
        ("aws:createdBy", "AWSGenerated", "Active"),
    ]
    active = ce.list_cost_allocation_tags(Status="Active", Type="UserDefined")
    assert [r["TagKey"] for r in active["CostAllocationTags"]] == ["Team"]
    wanted = ce.list_cost_allocation_tags(TagKeys=["Team", "Nobody"])
    assert [r["TagKey"] for r in wanted["CostAllocationTags"]] == ["Team"]
    first = ce.list_cost_allocation_tags(MaxResults=2)
    second = ce.list_cost_allocation_tags(MaxResults=2, NextToken=first["NextToken"])
    assert len(first["CostAllocationTags"]) == 2 and "NextToken" not in second
    assert [r["TagKey"] for r in second["CostAllocationTags"]] == ["aws:createdBy"]
    with pytest.raises(ControlError):
        control.call("cost-allocation-tags", Team="Sometimes")


def test_canaries_start_and_stop(control: EmulatorControl) -> None:
    synthetics = control.client("synthetics")
    synthetics.create_canary(
        Name="probe",
        Code={"Handler": "index.handler", "ZipFile": b"PK\x05\x06" + b"\0" * 18},
        ArtifactS3Location="s3://artifacts/probe",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/canary",
        Schedule={"Expression": "rate(5 minutes)"},
        RuntimeVersion="syn-nodejs-puppeteer-9.1",
    )
    assert _state(control, "probe")["Status"]["State"] == "READY"
    with pytest.raises(ClientError) as exc:
        synthetics.stop_canary(Name="probe")
    assert _code(exc) == "ConflictException"
    synthetics.start_canary(Name="probe")
    running = _state(control, "probe")
    assert running["Status"]["State"] == "RUNNING"
    assert running["Timeline"]["LastStarted"] is not None
    with pytest.raises(ClientError) as exc:
        synthetics.start_canary(Name="probe")
    assert _code(exc) == "ConflictException"
    synthetics.stop_canary(Name="probe")
    stopped = _state(control, "probe")
    assert stopped["Status"]["State"] == "STOPPED" and stopped["Timeline"]["LastStopped"]
    with pytest.raises(ClientError) as exc:
        synthetics.start_canary(Name="nowhere")
    assert _code(exc) == "ResourceNotFoundException"


# -- budget subscribers -----------------------------------------------------------------------


def test_budget_subscribers_are_readable(control: EmulatorControl) -> None:
    budgets = control.client("budgets")
    notification = {
        "NotificationType": "FORECASTED",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": 90,
        "ThresholdType": "PERCENTAGE",
    }
    subscribers = [{"SubscriptionType": "EMAIL", "Address": f"p{i}@example.com"} for i in range(3)]
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "subscribed",
            "BudgetLimit": {"Amount": "100", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[{"Notification": notification, "Subscribers": subscribers}],
    )
    listed = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="subscribed")
    pages = budgets.get_paginator("describe_subscribers_for_notification").paginate(
        AccountId=ACCOUNT,
        BudgetName="subscribed",
        Notification=listed["Notifications"][0],
        PaginationConfig={"PageSize": 2},
    )
    got = [s for page in pages for s in page["Subscribers"]]
    assert got == subscribers
    with pytest.raises(ClientError) as exc:
        budgets.describe_subscribers_for_notification(
            AccountId=ACCOUNT,
            BudgetName="subscribed",
            Notification={**notification, "Threshold": 50},
        )
    assert _code(exc) == "NotFoundException"
    with pytest.raises(ClientError) as exc:
        budgets.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName="unknown", Notification=notification
        )
    assert _code(exc) == "NotFoundException"


# -- composite alarms -------------------------------------------------------------------------


def test_composite_alarms_can_be_made_and_read(control: EmulatorControl) -> None:
    cloudwatch = control.client("cloudwatch")
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
    cloudwatch.put_composite_alarm(
        AlarmName="either-hot",
        AlarmRule='ALARM("api-hot") OR ALARM(db-hot)',
        AlarmDescription="API or database hot",
        AlarmActions=[topic],
        ActionsEnabled=False,
        Tags=[{"Key": "Owner", "Value": "platform"}],
    )
    answer = cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    assert answer["MetricAlarms"] == []
    (alarm,) = answer["CompositeAlarms"]
    assert alarm["AlarmRule"] == 'ALARM("api-hot") OR ALARM(db-hot)'
    assert alarm["AlarmActions"] == [topic] and alarm["ActionsEnabled"] is False
    assert alarm["StateValue"] == "OK"
    cloudwatch.set_alarm_state(AlarmName="either-hot", StateValue="ALARM", StateReason="hot")
    firing = cloudwatch.describe_alarms(AlarmTypes=["CompositeAlarm"], StateValue="ALARM")
    assert [a["AlarmName"] for a in firing["CompositeAlarms"]] == ["either-hot"]
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "Owner", "Value": "platform"}]
