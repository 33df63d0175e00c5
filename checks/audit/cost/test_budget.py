"""A monthly cost budget within the configured limit, and someone it notifies."""

import pytest

from readiness.config import Environment, Thresholds
from readiness.inventory.model import Resource, Snapshot

pytestmark = [pytest.mark.audit]
BUDGETS = "budgets.budgets"
DOCS = "https://docs.aws.amazon.com/cost-management/latest/userguide"


def is_monthly_cost(resource: Resource) -> bool:
    return resource.get("TimeUnit") == "MONTHLY" and resource.get("BudgetType") == "COST"


def monthly_cost(resource: Resource, env: Environment) -> bool:
    return is_monthly_cost(resource)


def limit_usd(budget: Resource) -> float | None:
    limit = budget.get("BudgetLimit") or {}
    if limit.get("Unit") != "USD" or limit.get("Amount") is None:
        return None
    return float(limit["Amount"])


@pytest.mark.critical
@pytest.mark.check(
    id="cost-monthly-budget",
    title="A monthly COST budget exists with a limit within thresholds.monthly_cost_limit_usd",
    category="cost",
    risk="Without a monthly budget at or under the agreed limit, a runaway cost (a loop, a "
    "forgotten fleet) is discovered on the invoice.",
    remediation="aws budgets create-budget --account-id ACCOUNT --budget "
    "'BudgetName=monthly,BudgetLimit={Amount=450,Unit=USD},TimeUnit=MONTHLY,BudgetType=COST' "
    "--notifications-with-subscribers ... (terraform: aws_budgets_budget).",
    references=[f"{DOCS}/budgets-create.html"],
)
def test_monthly_budget(inventory: Snapshot, thresholds: Thresholds) -> None:
    ceiling = thresholds.monthly_cost_limit_usd
    monthly = [b for b in inventory.require(BUDGETS) if is_monthly_cost(b)]
    assert monthly, "no monthly COST budget in the account"
    within = [b for b in monthly if (limit_usd(b) or float("inf")) <= ceiling]
    assert within, f"no monthly COST budget within {ceiling:g} USD: " + ", ".join(
        f"{b.label} limit {(b.get('BudgetLimit') or {}).get('Amount')} "
        f"{(b.get('BudgetLimit') or {}).get('Unit')}"
        for b in monthly
    )


@pytest.mark.warning
@pytest.mark.check(
    id="cost-budget-notifies",
    title="Monthly COST budgets notify at least one subscriber",
    category="cost",
    risk="A budget without a notification is only a number on a console page: nobody hears "
    "that the month is going over.",
    remediation="aws budgets create-notification --account-id ACCOUNT --budget-name NAME "
    "--notification NotificationType=FORECASTED,ComparisonOperator=GREATER_THAN,Threshold=90 "
    "--subscribers SubscriptionType=EMAIL,Address=team@example.com",
    references=[f"{DOCS}/budgets-sns-policy.html"],
)
@pytest.mark.resources(BUDGETS, where=monthly_cost)
def test_budget_notifies(resource: Resource) -> None:
    notifications = resource.need("Notifications") or []
    assert notifications, f"{resource.label} has no notification"
    assert any(n.get("Subscribers") for n in notifications), (
        f"{resource.label} has {len(notifications)} notification(s) but no subscriber"
    )
