"""Cost at the 24-hour review: month-to-date plus the forecast stays under the limit."""

import pytest

from readiness.config import Thresholds
from readiness.inventory.model import NotEvaluated, Resource

pytestmark = [pytest.mark.postdeploy]


@pytest.mark.warning
@pytest.mark.check(
    id="cost-month-under-limit",
    title="Month-to-date cost plus the forecast is under the monthly limit (24 h review)",
    category="cost",
    risk="The new stack costs more than planned: the month ends over budget.",
    remediation="Cost Explorer, grouped by service and by the Environment tag, for the days "
    "since the deploy; right-size or roll back what drove the increase.",
    references=[
        "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_GetCostForecast.html"
    ],
)
@pytest.mark.resources("ce.month_outlook")
def test_cost_month_under_limit(resource: Resource, thresholds: Thresholds) -> None:
    if resource.get("Reviewed") is False:
        pytest.skip("not-applicable: cost is part of the 24-hour review (--window 24h)")
    spent = resource.need("MonthToDateUsd")
    forecast = resource.need("ForecastUsd")
    if spent is None:
        raise NotEvaluated(f"{resource.label}: Cost Explorer has no month-to-date figure")
    if forecast is None:
        raise NotEvaluated(f"{resource.label}: Cost Explorer has no forecast")
    expected = float(spent) + float(forecast)
    limit = thresholds.monthly_cost_limit_usd
    assert expected < limit, (
        f"{resource.label}: {float(spent):.2f} USD spent + {float(forecast):.2f} USD forecast "
        f"= {expected:.2f} USD, over the {limit:g} USD monthly limit"
    )
