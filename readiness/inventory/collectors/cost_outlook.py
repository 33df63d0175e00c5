"""The month's cost as the 24-hour review judges it: spent so far plus the forecast.

Kind `ce.month_outlook`: one global record (id `month`) with `MonthToDateUsd` (Cost
Explorer GetCostAndUsage, unblended, from the first of the month to today; None when
Cost Explorer has no figure) and `ForecastUsd` (GetCostForecast for the rest of the
month; None on the last day). Each is read separately: one that cannot be read is
unreadable, and the check is not-evaluated. In the 2-hour window the record holds only
`Reviewed: false` and nothing is read (cost is part of the 24-hour review).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

KIND = "ce.month_outlook"
REVIEW_HOURS = 24
METRIC = "UnblendedCost"


def _month_bounds(today: dt.date) -> tuple[dt.date, dt.date]:
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


def _amount(value: Any) -> float:
    return float(str((value or {}).get("Amount")))


def month_to_date(ctx: CollectContext) -> float | None:
    today = ctx.now.date()
    first, _ = _month_bounds(today)
    answer = ctx.fetch.call(
        "ce",
        "global",
        "get_cost_and_usage",
        TimePeriod={"Start": first.isoformat(), "End": (today + dt.timedelta(days=1)).isoformat()},
        Granularity="MONTHLY",
        Metrics=[METRIC],
    )
    periods = answer.get("ResultsByTime") or []
    amounts = [p["Total"][METRIC] for p in periods if METRIC in (p.get("Total") or {})]
    if not amounts:
        return None
    return sum(_amount(a) for a in amounts)


def forecast(ctx: CollectContext) -> float | None:
    today = ctx.now.date()
    _, following = _month_bounds(today)
    start = today + dt.timedelta(days=1)
    if start >= following:
        return 0.0  # the last day: nothing left to forecast
    answer = ctx.fetch.call(
        "ce",
        "global",
        "get_cost_forecast",
        TimePeriod={"Start": start.isoformat(), "End": following.isoformat()},
        Metric="UNBLENDED_COST",
        Granularity="MONTHLY",
    )
    if not answer.get("Total"):
        return None
    return _amount(answer["Total"])


@collector(KIND, phases=("postdeploy",), scope="global")
def month_outlook(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Month-to-date cost and the forecast for the rest of the month (24 h review)."""
    if ctx.window_hours < REVIEW_HOURS:
        yield Found(id="month", data={"Reviewed": False, "WindowHours": ctx.window_hours})
        return
    found = Found(id="month", data={"Reviewed": True, "Month": ctx.now.strftime("%Y-%m")})
    found.enrich("MonthToDateUsd", lambda: month_to_date(ctx))
    found.enrich("ForecastUsd", lambda: forecast(ctx))
    yield found


COLLECTORS = (month_outlook,)
