"""This month's cost, so far and forecast, stays under the configured monthly limit.

The figures come from Cost Explorer (`ce.month_spend`). When Cost Explorer cannot be
read, the month-to-date spend falls back to the account-wide monthly COST budgets'
CalculatedSpend.ActualSpend (a budget with cost filters covers only part of the bill and
is not used); the forecast has no such fallback.
"""

import pytest

from readiness.config import Thresholds
from readiness.inventory.collectors.cost import MONTH_SPEND
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.audit, pytest.mark.critical]
DOCS = "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference"


def budget_actual(inventory: Snapshot) -> float | None:
    try:
        budgets = inventory.require("budgets.budgets")
    except NotEvaluated:
        return None
    amounts = [
        float(spend["Amount"])
        for b in budgets
        if b.get("TimeUnit") == "MONTHLY"
        and b.get("BudgetType") == "COST"
        and not b.get("CostFilters")
        and (spend := (b.get("CalculatedSpend") or {}).get("ActualSpend") or {}).get("Unit")
        == "USD"
    ]
    return max(amounts) if amounts else None


def spent(resource: Resource, inventory: Snapshot) -> tuple[float, str]:
    """(month-to-date USD, where it was read)."""
    try:
        value = resource.need("MonthToDateUsd")
    except NotEvaluated as exc:
        fallback = budget_actual(inventory)
        if fallback is None:
            raise NotEvaluated(f"{exc}; and no account-wide budget reports ActualSpend") from None
        return fallback, "budget ActualSpend"
    if value is None:
        raise NotEvaluated(f"{resource.label}: Cost Explorer has no month-to-date figure")
    return float(value), "Cost Explorer"


@pytest.mark.check(
    id="cost-actual-under-limit",
    title="Month-to-date spend is under thresholds.monthly_cost_limit_usd",
    category="cost",
    risk="The month is already over the agreed limit: a deploy adds cost to an overrun "
    "nobody has explained.",
    remediation="Cost Explorer, grouped by service and by the cost-allocation tags, for "
    "this month; stop or right-size what drives it, or raise the limit knowingly.",
    references=[f"{DOCS}/API_GetCostAndUsage.html"],
)
@pytest.mark.resources(MONTH_SPEND)
def test_actual_under_limit(
    resource: Resource, inventory: Snapshot, thresholds: Thresholds
) -> None:
    amount, source = spent(resource, inventory)
    limit = thresholds.monthly_cost_limit_usd
    assert amount < limit, (
        f"{resource.label} {resource.get('Month')}: {amount:.2f} USD spent ({source}), "
        f"over the {limit:g} USD monthly limit"
    )


@pytest.mark.check(
    id="cost-forecast-under-limit",
    title="Month-to-date spend plus the forecast for the rest of the month is under the limit",
    category="cost",
    risk="The month is on course to end over the agreed limit.",
    remediation="Cost Explorer's forecast by service; find the new or grown cost and "
    "right-size it before adding a release on top.",
    references=[f"{DOCS}/API_GetCostForecast.html"],
)
@pytest.mark.resources(MONTH_SPEND)
def test_forecast_under_limit(
    resource: Resource, inventory: Snapshot, thresholds: Thresholds
) -> None:
    amount, source = spent(resource, inventory)
    forecast = resource.need("ForecastUsd")
    if forecast is None:
        raise NotEvaluated(f"{resource.label}: Cost Explorer has no forecast")
    total = amount + float(forecast)
    limit = thresholds.monthly_cost_limit_usd
    assert total < limit, (
        f"{resource.label} {resource.get('Month')}: {amount:.2f} USD spent ({source}) + "
        f"{float(forecast):.2f} USD forecast = {total:.2f} USD, over the {limit:g} USD "
        "monthly limit"
    )
