"""Budgets, and the month's cost from Cost Explorer.

Kind `budgets.budgets` (global): DescribeBudgets' entries with `Notifications`, each with
its `Subscribers`.

Kind `ce.month_spend` (global, audit): one record, id `month`, with `Month` (YYYY-MM,
UTC), `MonthToDateUsd` (GetCostAndUsage, UnblendedCost, from the first of the month to
the end of today; None when Cost Explorer has no figure) and `ForecastUsd`
(GetCostForecast, UNBLENDED_COST, from tomorrow to the first of next month; 0 on the
last day of the month, None when there is no forecast). Each is read separately, so one
that cannot be read leaves only that figure unreadable. On AWS each Cost Explorer
request is billed (0.01 USD): the audit makes two.

Kind `ce.cost_allocation_tags` (global, audit): one record per key of
`scope.cost_allocation_tags`, id the key, with `Status` (`Active`, `Inactive`, or None
when Billing does not list the key: it has never seen it on a resource) and `Type`, from
ListCostAllocationTags filtered by those keys (100 per request, paged).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

HEALTH = ("preflight", "audit", "postdeploy", "deploy")
MONTH_SPEND = "ce.month_spend"
ALLOCATION_TAGS = "ce.cost_allocation_tags"
COST_METRIC = "UnblendedCost"
FORECAST_METRIC = "UNBLENDED_COST"


@collector(
    "budgets.budgets",
    phases=HEALTH,
    scope="global",
    reads=(
        "budgets:DescribeBudgets",
        "budgets:DescribeNotificationsForBudget",
        "budgets:DescribeSubscribersForNotification",
    ),
)
def budgets(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Budgets of the account, with their notifications and subscribers."""
    account = ctx.env.account_id
    rows = ctx.fetch.pages("budgets", "global", "describe_budgets", "Budgets", AccountId=account)

    def describe(budget: dict[str, object]) -> Found:
        name = str(budget["BudgetName"])
        found = Found(id=name, data=dict(budget))

        def notifications() -> list[dict[str, object]]:
            out = []
            for n in ctx.fetch.pages(
                "budgets",
                "global",
                "describe_notifications_for_budget",
                "Notifications",
                AccountId=account,
                BudgetName=name,
            ):
                subscribers = ctx.fetch.pages(
                    "budgets",
                    "global",
                    "describe_subscribers_for_notification",
                    "Subscribers",
                    AccountId=account,
                    BudgetName=name,
                    Notification=n,
                )
                out.append({**n, "Subscribers": subscribers})
            return out

        found.enrich("Notifications", notifications)
        return found

    return ctx.each(rows, describe)


def month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of this month and of the next."""
    first = today.replace(day=1)
    return first, (first + dt.timedelta(days=32)).replace(day=1)


def _amount(value: Any) -> float:
    return float(str((value or {}).get("Amount")))


def month_to_date(ctx: CollectContext) -> float | None:
    today = ctx.now.date()
    first, _ = month_bounds(today)
    answer = ctx.fetch.call(
        "ce",
        "global",
        "get_cost_and_usage",
        TimePeriod={"Start": first.isoformat(), "End": (today + dt.timedelta(days=1)).isoformat()},
        Granularity="MONTHLY",
        Metrics=[COST_METRIC],
    )
    totals = [(p.get("Total") or {}).get(COST_METRIC) for p in answer.get("ResultsByTime") or []]
    amounts = [t for t in totals if t]
    return sum(_amount(a) for a in amounts) if amounts else None


def rest_of_month_forecast(ctx: CollectContext) -> float | None:
    today = ctx.now.date()
    _, following = month_bounds(today)
    start = today + dt.timedelta(days=1)
    if start >= following:
        return 0.0  # the last day of the month: nothing is left to forecast
    answer = ctx.fetch.call(
        "ce",
        "global",
        "get_cost_forecast",
        TimePeriod={"Start": start.isoformat(), "End": following.isoformat()},
        Metric=FORECAST_METRIC,
        Granularity="MONTHLY",
    )
    return _amount(answer["Total"]) if answer.get("Total") else None


@collector(
    MONTH_SPEND,
    phases=("audit",),
    scope="global",
    reads=("ce:GetCostAndUsage", "ce:GetCostForecast"),
)
def month_spend(ctx: CollectContext, region: str) -> Iterable[Found]:
    """This month's cost so far and the forecast for the rest of it (Cost Explorer)."""
    found = Found(id="month", data={"Month": ctx.now.strftime("%Y-%m")})
    found.enrich("MonthToDateUsd", lambda: month_to_date(ctx))
    found.enrich("ForecastUsd", lambda: rest_of_month_forecast(ctx))
    yield found


@collector(ALLOCATION_TAGS, phases=("audit",), scope="global", reads=("ce:ListCostAllocationTags",))
def cost_allocation_tags(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The configured cost-allocation tag keys and their status in Billing."""
    keys = list(dict.fromkeys(ctx.env.scope.cost_allocation_tags))
    listed: dict[str, dict[str, Any]] = {}
    for first in range(0, len(keys), 100):  # TagKeys takes at most 100
        for row in ctx.fetch.pages(
            "ce",
            "global",
            "list_cost_allocation_tags",
            "CostAllocationTags",
            TagKeys=keys[first : first + 100],
        ):
            listed[str(row.get("TagKey"))] = row
    for key in keys:
        row = listed.get(key, {})
        yield Found(
            id=key, data={"TagKey": key, "Status": row.get("Status"), "Type": row.get("Type")}
        )


COLLECTORS = (budgets, month_spend, cost_allocation_tags)
