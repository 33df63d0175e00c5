"""Observability and cost: the budget (alerts topic, canaries, log groups and cost follow).

demo-risky / demo-broken: no defect here yet.
"""

from __future__ import annotations

from readiness.emulator.seeds import ACCOUNT, Stack

ORDER = 7
BUDGET = "monthly-production"


def seed(stack: Stack) -> None:
    budgets = stack.client("budgets")
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": BUDGET,
            "BudgetLimit": {"Amount": "450", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        NotificationsWithSubscribers=[
            {
                "Notification": {
                    "NotificationType": "FORECASTED",
                    "ComparisonOperator": "GREATER_THAN",
                    "Threshold": 90,
                    "ThresholdType": "PERCENTAGE",
                },
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "platform@example.com"}],
            }
        ],
    )
    stack.count("budgets")
