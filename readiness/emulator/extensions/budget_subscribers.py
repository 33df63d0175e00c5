"""AWS Budgets DescribeSubscribersForNotification: moto keeps every notification's
subscribers (given to CreateBudget or CreateNotification) but answers this read with
HTTP 500, so who a budget notifies cannot be read.

This route answers it from moto's own budget: the subscribers of the notification whose
type, comparison operator, threshold and threshold type equal the request's (AWS's key
for a notification), paginated with MaxResults (1-100) and NextToken. An unknown budget
or notification is NotFoundException, as in AWS.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Request, Response

from readiness.emulator.registry import Registry, error_response, json_response

TARGET = "AWSBudgetServiceGateway.DescribeSubscribersForNotification"
KEY = ("NotificationType", "ComparisonOperator", "Threshold", "ThresholdType")
MAX_PAGE = 100


def _key(notification: dict[str, Any]) -> tuple[Any, ...]:
    values = dict(notification)
    values.setdefault("ThresholdType", "PERCENTAGE")
    return tuple(
        float(values[k]) if k == "Threshold" and values.get(k) is not None else values.get(k)
        for k in KEY
    )


def subscribers_for(account: str, budget_name: str, notification: dict[str, Any]) -> Any:
    """The subscribers, or an error message naming what is missing."""
    from moto.budgets.models import budgets_backends

    budget = budgets_backends[account]["aws"].budgets[account].get(budget_name)
    if budget is None:
        return f"Unable to get budget: {budget_name} - the budget doesn't exist."
    for kept in budget.notifications:
        if _key(kept.details) == _key(notification):
            return list(kept.subscribers)
    return f"Unable to find the notification of budget {budget_name}"


def describe(request: Request, _match: re.Match[str]) -> Response:
    body = request.get_json(force=True, silent=True) or {}
    try:
        account, name = str(body["AccountId"]), str(body["BudgetName"])
        notification = dict(body["Notification"])
    except (KeyError, TypeError, ValueError):
        return error_response("InvalidParameterException", "AccountId, BudgetName and Notification")
    found = subscribers_for(account, name, notification)
    if isinstance(found, str):
        return error_response("NotFoundException", found)
    try:
        start = int(body.get("NextToken") or 0)
        size = int(body.get("MaxResults") or MAX_PAGE)
    except ValueError:
        return error_response("InvalidNextTokenException", "NextToken is not valid")
    if not 1 <= size <= MAX_PAGE or start < 0:
        return error_response("InvalidParameterException", f"MaxResults must be 1..{MAX_PAGE}")
    answer: dict[str, Any] = {"Subscribers": found[start : start + size]}
    if start + size < len(found):
        answer["NextToken"] = str(start + size)
    return json_response(answer)


def install(registry: Registry) -> None:
    registry.route("budgets", "POST", "/", describe, target=TARGET)
