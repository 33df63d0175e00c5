"""The month's cost as the 24-hour review judges it: spent so far plus the forecast.

Kind `ce.month_outlook`: one global record (id `month`) with `MonthToDateUsd` (Cost
Explorer GetCostAndUsage, unblended, from the first of the month to today; None when
Cost Explorer has no figure) and `ForecastUsd` (GetCostForecast for the rest of the
month; 0 on the last day), read as the audit's `ce.month_spend` reads them. Each is
read separately: one that cannot be read is unreadable, and the check is not-evaluated.
In the 2-hour window the record holds only `Reviewed: false` and nothing is read (cost
is part of the 24-hour review).
"""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.collectors.cost import month_to_date, rest_of_month_forecast

KIND = "ce.month_outlook"
REVIEW_HOURS = 24


@collector(
    KIND, phases=("postdeploy",), scope="global", reads=("ce:GetCostAndUsage", "ce:GetCostForecast")
)
def month_outlook(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Month-to-date cost and the forecast for the rest of the month (24 h review)."""
    if ctx.window_hours < REVIEW_HOURS:
        yield Found(id="month", data={"Reviewed": False, "WindowHours": ctx.window_hours})
        return
    found = Found(id="month", data={"Reviewed": True, "Month": ctx.now.strftime("%Y-%m")})
    found.enrich("MonthToDateUsd", lambda: month_to_date(ctx))
    found.enrich("ForecastUsd", lambda: rest_of_month_forecast(ctx))
    yield found


COLLECTORS = (month_outlook,)
