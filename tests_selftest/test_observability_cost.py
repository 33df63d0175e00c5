"""The cost and operations criteria on the emulator: the monthly budget and its
notification, the month's spend and forecast (Cost Explorer through the emulator's
extension), cost-allocation tags on resources and their activation in Billing, and the
runbook and on-call contact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from readiness.config import Thresholds
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .test_data_support import Taken, checks_of, environment, outcome, snapshot

ACCOUNT = "123456789012"
BUDGET_KINDS = ("budgets.budgets", "ce.month_spend")
ALLOCATION = "ce.cost_allocation_tags"
MODULES = (
    "audit/cost/test_budget.py",
    "audit/cost/test_spend.py",
    "audit/cost/test_tags.py",
)
LIMIT = Thresholds(monthly_cost_limit_usd=500)
REPO = Path(__file__).resolve().parents[1]


@dataclass
class World:
    taken: Taken  # cheap month, budgets, tags
    dear: Taken  # an expensive month
    ce_denied: Taken  # Cost Explorer denied, budgets readable
    all_denied: Taken  # Cost Explorer and Budgets denied
    checks: dict[str, Any]
    allocation: Taken  # Environment active, Owner inactive, CostCenter never seen
    allocation_denied: Taken  # ListCostAllocationTags denied
    many_keys: Taken  # 150 configured keys, all active


NOTIFY = [
    {
        "Notification": {
            "NotificationType": "ACTUAL",
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": 80,
            "ThresholdType": "PERCENTAGE",
        },
        "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "team@example.com"}],
    }
]


def _budget(control: EmulatorControl, name: str, amount: str, **extra: Any) -> None:
    notifications = extra.pop("notifications", [])
    control.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": name,
            "BudgetLimit": {"Amount": amount, "Unit": "USD"},
            "TimeUnit": extra.pop("TimeUnit", "MONTHLY"),
            "BudgetType": "COST",
            **extra,
        },
        NotificationsWithSubscribers=notifications,
    )


def build(control: EmulatorControl) -> None:
    _budget(
        control,
        "careful",
        "450",
        notifications=NOTIFY,
        CalculatedSpend={"ActualSpend": {"Amount": "321.5", "Unit": "USD"}},
    )
    _budget(control, "lavish", "900")
    _budget(control, "yearly", "100", TimeUnit="ANNUALLY")
    sqs = control.client("sqs")
    sqs.create_queue(QueueName="tagged", tags={"Environment": "prod", "Owner": "platform"})
    sqs.create_queue(QueueName="half-tagged", tags={"Environment": "prod"})
    control.client("sns", "us-west-2").create_topic(
        Name="west", Tags=[{"Key": "Environment", "Value": "prod"}, {"Key": "Owner", "Value": "x"}]
    )


@pytest.fixture(scope="module")
def world(pytestconfig: pytest.Config) -> Iterator[World]:
    checks = checks_of(pytestconfig, *MODULES)
    env = environment(
        regions=("us-east-1", "us-west-2"), scope={"cost_allocation_tags": ["Environment", "Owner"]}
    )
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        build(control)
        control.call("cost-explorer", daily_usd=2.0, forecast_daily_usd=3.0)
        kinds = (*BUDGET_KINDS, "tagging.resources")
        taken = snapshot(emulator.endpoint, kinds, env=env)
        ce_denied = snapshot(
            emulator.endpoint,
            BUDGET_KINDS,
            denied=[("ce", "GetCostAndUsage"), ("ce", "GetCostForecast")],
        )
        all_denied = snapshot(
            emulator.endpoint,
            BUDGET_KINDS,
            denied=[
                ("ce", "GetCostAndUsage"),
                ("ce", "GetCostForecast"),
                ("budgets", "DescribeBudgets"),
            ],
        )
        control.client("ce").update_cost_allocation_tags_status(
            CostAllocationTagsStatus=[
                {"TagKey": "Environment", "Status": "Active"},
                {"TagKey": "Owner", "Status": "Inactive"},
            ]
        )
        keyed = environment(scope={"cost_allocation_tags": ["Environment", "Owner", "CostCenter"]})
        allocation = snapshot(emulator.endpoint, (ALLOCATION,), env=keyed)
        allocation_denied = snapshot(
            emulator.endpoint, (ALLOCATION,), env=keyed, denied=[("ce", "ListCostAllocationTags")]
        )
        many = [f"team-{n:03}" for n in range(150)]
        control.call("cost-allocation-tags", **dict.fromkeys(many, "Active"))
        many_keys = snapshot(
            emulator.endpoint, (ALLOCATION,), env=environment(scope={"cost_allocation_tags": many})
        )
        control.call("cost-explorer", daily_usd=40.0, forecast_daily_usd=40.0)
        dear = snapshot(emulator.endpoint, BUDGET_KINDS)
        yield World(
            taken, dear, ce_denied, all_denied, checks, allocation, allocation_denied, many_keys
        )


def _month(taken: Taken) -> Any:
    return taken.resource("ce.month_spend", "month", region="global")


def test_month_spend_is_read_from_cost_explorer(world: World) -> None:
    today = dt.datetime.now(dt.UTC).date()
    following = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    month = _month(world.taken)
    assert month.get("MonthToDateUsd") == pytest.approx(2.0 * today.day)
    assert month.get("ForecastUsd") == pytest.approx(3.0 * (following - today).days - 3.0)


def test_monthly_budget(world: World) -> None:
    check = world.checks["test_monthly_budget"]
    assert outcome(check, inventory=world.taken.snapshot, thresholds=LIMIT) == ("passed", "")
    result, text = outcome(
        check, inventory=world.taken.snapshot, thresholds=Thresholds(monthly_cost_limit_usd=400)
    )
    assert result == "failed"
    assert (
        text == "no monthly COST budget within 400 USD: careful limit 450 USD, lavish limit 900 USD"
    )
    result, text = outcome(check, inventory=world.all_denied.snapshot, thresholds=LIMIT)
    assert result == "not-evaluated" and "budgets.budgets" in text


def test_budget_notifies(world: World) -> None:
    check = world.checks["test_budget_notifies"]
    careful = world.taken.resource("budgets.budgets", "careful", region="global")
    lavish = world.taken.resource("budgets.budgets", "lavish", region="global")
    assert outcome(check, resource=careful) == ("passed", "")
    assert outcome(check, resource=lavish) == ("failed", "lavish has no notification")
    assert world.taken.selected(check) == ["careful", "lavish"]  # the yearly one is not judged


@pytest.mark.parametrize("check", ["test_actual_under_limit", "test_forecast_under_limit"])
def test_spend_under_and_over_the_limit(world: World, check: str) -> None:
    function = world.checks[check]
    cheap = outcome(
        function, resource=_month(world.taken), inventory=world.taken.snapshot, thresholds=LIMIT
    )
    assert cheap == ("passed", "")
    # 40 USD a day: the forecast is always over 500; month to date from the 13th on.
    today = dt.datetime.now(dt.UTC).date()
    result, text = outcome(
        function, resource=_month(world.dear), inventory=world.dear.snapshot, thresholds=LIMIT
    )
    if check == "test_actual_under_limit" and 40 * today.day < 500:
        assert result == "passed"
    else:
        assert result == "failed"
        assert text.startswith(f"month {today:%Y-%m}: {40.0 * today.day:.2f} USD spent")
        assert "over the 500 USD monthly limit" in text


def test_spend_falls_back_to_the_budget_and_forecast_is_not_evaluated(world: World) -> None:
    month = _month(world.ce_denied)
    actual = outcome(
        world.checks["test_actual_under_limit"],
        resource=month,
        inventory=world.ce_denied.snapshot,
        thresholds=Thresholds(monthly_cost_limit_usd=300),
    )
    assert actual[0] == "failed"
    assert "321.50 USD spent (budget ActualSpend), over the 300 USD" in actual[1]
    result, text = outcome(
        world.checks["test_forecast_under_limit"],
        resource=month,
        inventory=world.ce_denied.snapshot,
        thresholds=LIMIT,
    )
    assert result == "not-evaluated" and "ForecastUsd could not be read" in text
    result, text = outcome(
        world.checks["test_actual_under_limit"],
        resource=_month(world.all_denied),
        inventory=world.all_denied.snapshot,
        thresholds=LIMIT,
    )
    assert result == "not-evaluated" and "no account-wide budget reports ActualSpend" in text


def test_cost_allocation_tags(world: World) -> None:
    check = world.checks["test_cost_allocation_tags"]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}"
    tagged = world.taken.resource("tagging.resources", f"{arn}:tagged", region="global")
    half = world.taken.resource("tagging.resources", f"{arn}:half-tagged", region="global")
    env = world.taken.env
    assert outcome(check, resource=tagged, environment=env) == ("passed", "")
    assert outcome(check, resource=half, environment=env) == (
        "failed",
        f"{arn}:half-tagged lacks cost-allocation tag(s) Owner",
    )
    # Both regions are read, each resource once.
    ids = [r.id for r in world.taken.snapshot.resources("tagging.resources")]
    assert f"arn:aws:sns:us-west-2:{ACCOUNT}:west" in ids and len(ids) == len(set(ids))
    # No tag keys configured: nothing in scope.
    where = next(m for m in check.pytestmark if m.name == "resources").kwargs["where"]
    assert where(tagged, env) is True
    assert where(tagged, environment()) is False


def test_cost_allocation_tags_active_in_billing(world: World) -> None:
    check = world.checks["test_cost_allocation_tags_active"]

    def judged(key: str, taken: Taken) -> tuple[str, str]:
        return outcome(check, resource=taken.resource(ALLOCATION, key, region="global"))

    assert judged("Environment", world.allocation) == ("passed", "")
    assert judged("Owner", world.allocation) == (
        "failed",
        "cost-allocation tag Owner is Inactive in Billing",
    )
    result, text = judged("CostCenter", world.allocation)
    assert result == "failed" and text.startswith("cost-allocation tag CostCenter is unknown")
    gaps = world.allocation_denied.snapshot.gaps(ALLOCATION)
    assert gaps and all("access denied" in g.reason for g in gaps)
    assert not world.allocation_denied.snapshot.resources(ALLOCATION)


def test_cost_allocation_tags_are_read_100_keys_a_request(world: World) -> None:
    """TagKeys takes at most 100 keys: 150 configured keys are two requests, all listed."""
    rows = world.many_keys.snapshot.resources(ALLOCATION)
    assert len(rows) == 150 and {r.get("Status") for r in rows} == {"Active"}
    calls = world.many_keys.calls
    assert calls["by_operation"].get("ce:ListCostAllocationTags") == 2, calls["by_operation"]


def test_reads_once_and_read_only(world: World) -> None:
    calls = world.taken.calls
    assert calls["total_calls"] == calls["distinct_requests"] > 0
    assert calls["mutating_calls"] == []


# -- operations: runbook and on-call ------------------------------------------------------

ROOT = SimpleNamespace(options=SimpleNamespace(config_path=REPO / "readiness.toml"))


@pytest.fixture(scope="module")
def runbook_checks(pytestconfig: pytest.Config) -> dict[str, Any]:
    return checks_of(pytestconfig, "audit/operations/test_runbook.py")


@pytest.mark.parametrize(
    ("runbook", "expected", "message"),
    [
        ("docs/runbook.md", "passed", ""),
        ("https://wiki.example.com/runbooks/prod", "passed", ""),
        (None, "failed", "environment selftest has no runbook_url"),
        ("docs/missing.md", "failed", "environment selftest: runbook docs/missing.md does not"),
        ("../outside.md", "failed", "environment selftest: runbook_url ../outside.md must be"),
    ],
)
def test_runbook(
    runbook_checks: dict[str, Any], runbook: str | None, expected: str, message: str
) -> None:
    env = environment(runbook_url=runbook)
    result, text = outcome(
        runbook_checks["test_runbook_configured"], environment=env, run_context=ROOT
    )
    assert (result, text[: len(message)]) == (expected, message)


def test_on_call(runbook_checks: dict[str, Any]) -> None:
    check = runbook_checks["test_on_call_configured"]
    assert outcome(check, environment=environment(on_call="#ops")) == ("passed", "")
    assert outcome(check, environment=environment(on_call="  ")) == (
        "failed",
        "environment selftest has no on_call",
    )
