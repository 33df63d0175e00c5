"""AWS Backup plans with their rules and resource selections.

A plan protects only resources of its own region, so plans are read per region. Each
record carries the plan document (`BackupPlan`, with its rules) and `Selections`: every
selection's list entry merged with its document (Resources, NotResources, ListOfTags,
Conditions), which is what decides the resources the plan covers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.model import NotEvaluated, Resource

TAG_KEY_PREFIX = "aws:ResourceTag/"


@collector(
    "backup.plans",
    phases=("audit",),
    reads=(
        "backup:GetBackupPlan",
        "backup:GetBackupSelection",
        "backup:ListBackupPlans",
        "backup:ListBackupSelections",
    ),
)
def backup_plans(ctx: CollectContext, region: str) -> Iterable[Found]:
    """AWS Backup plans (not deleted) with their rules and resource selections."""
    plans = ctx.fetch.pages("backup", region, "list_backup_plans", "BackupPlansList")

    def describe(plan: dict[str, Any]) -> Found:
        plan_id = str(plan["BackupPlanId"])
        found = Found(
            id=str(plan.get("BackupPlanName") or plan_id),
            arn=plan.get("BackupPlanArn"),
            data=dict(plan),
        )
        found.enrich(
            "BackupPlan",
            lambda: ctx.fetch.call("backup", region, "get_backup_plan", BackupPlanId=plan_id).get(
                "BackupPlan", {}
            ),
        )

        def selections() -> list[dict[str, Any]]:
            rows = ctx.fetch.pages(
                "backup",
                region,
                "list_backup_selections",
                "BackupSelectionsList",
                BackupPlanId=plan_id,
            )
            out = []
            for row in rows:
                answer = ctx.fetch.call(
                    "backup",
                    region,
                    "get_backup_selection",
                    BackupPlanId=plan_id,
                    SelectionId=row["SelectionId"],
                )
                out.append({**row, **answer.get("BackupSelection", {})})
            return out

        found.enrich("Selections", selections)
        return found

    return ctx.each(plans, describe)


# -- which resources a plan covers ----------------------------------------------------


def _pattern(text: str) -> re.Pattern[str]:
    """AWS Backup's patterns: `*` matches any run of characters, all else is literal."""
    return re.compile(".*".join(re.escape(part) for part in text.split("*")))


def arn_matches(pattern: str, arn: str) -> bool:
    return _pattern(pattern).fullmatch(arn) is not None


def _tag(tags: Mapping[str, str], key: str) -> str | None:
    return tags.get(key.removeprefix(TAG_KEY_PREFIX))


def _condition_holds(operator: str, tags: Mapping[str, str], key: str, value: str) -> bool:
    actual = _tag(tags, key)
    if operator == "StringEquals":
        return actual == value
    if operator == "StringNotEquals":
        return actual != value
    if operator == "StringLike":
        return actual is not None and arn_matches(value, actual)
    if operator == "StringNotLike":
        return actual is None or not arn_matches(value, actual)
    raise NotEvaluated(f"unknown AWS Backup condition operator {operator}")


def selection_covers(
    selection: Mapping[str, Any], arn: str, tags: Mapping[str, str] | None, label: str
) -> bool:
    """Does this selection assign the resource to its plan?

    Resources (ARN patterns) OR ListOfTags (any tag equal) pick resources, and with
    neither every supported resource is picked; Conditions must then all hold (AND);
    NotResources excludes. Tags are needed only when the selection uses them.
    """
    if any(arn_matches(p, arn) for p in selection.get("NotResources") or []):
        return False
    resources = selection.get("Resources") or []
    by_tag = selection.get("ListOfTags") or []
    conditions: Mapping[str, Any] = selection.get("Conditions") or {}
    has_conditions = any(conditions.get(op) for op in conditions)

    def known_tags() -> Mapping[str, str]:
        if tags is None:
            raise NotEvaluated(
                f"{label}: its tags could not be read, and a backup selection "
                "assigns resources by tag"
            )
        return tags

    if resources or by_tag:
        picked = any(arn_matches(p, arn) for p in resources)
        if not picked and by_tag:
            current = known_tags()
            picked = any(
                _tag(current, str(c.get("ConditionKey", ""))) == c.get("ConditionValue")
                for c in by_tag
            )
        if not picked:
            return False
    if not has_conditions:
        return True
    current = known_tags()
    return all(
        _condition_holds(
            operator, current, str(c.get("ConditionKey", "")), str(c.get("ConditionValue", ""))
        )
        for operator, entries in conditions.items()
        for c in entries or []
    )


def plans_covering(
    plans: Iterable[Resource], arn: str, tags: Mapping[str, str] | None, label: str
) -> list[str]:
    """Names of the plans (with at least one rule) whose selections cover the resource.

    Raises NotEvaluated when none is known to cover it but some plan could not be read.
    """
    covering: list[str] = []
    unreadable: list[str] = []
    for plan in plans:
        try:
            rules = (plan.need("BackupPlan") or {}).get("Rules") or []
            chosen = plan.need("Selections") or []
            if rules and any(selection_covers(s, arn, tags, label) for s in chosen):
                covering.append(plan.id)
        except NotEvaluated as exc:
            unreadable.append(str(exc))
    if not covering and unreadable:
        raise NotEvaluated("; ".join(unreadable))
    return covering


COLLECTORS = (backup_plans,)
