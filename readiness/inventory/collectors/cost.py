"""Budgets (and cost figures)."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector

HEALTH = ("preflight", "audit", "postdeploy", "deploy")


@collector("budgets.budgets", phases=HEALTH, scope="global")
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


COLLECTORS = (budgets,)
