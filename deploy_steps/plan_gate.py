"""The plan gate: a saved plan that deletes or replaces stateful resources is NO-GO.

Judged on `terraform show -json` of the saved plan, before anything is applied. A
resource is stateful when its type is in `deploy.stateful_types` (databases, tables,
buckets, keys, file systems, queues, caches; `*` ends a prefix), or when it stands in
for one: a `terraform_data` whose input says `stateful = true` (its `type` names the
AWS type it stands for), or any resource whose name starts with `stateful_`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, final

STATEFUL_NAME_PREFIX = "stateful_"


def _type_matches(resource_type: str, patterns: Iterable[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("*"):
            if resource_type.startswith(pattern[:-1]):
                return True
        elif resource_type == pattern:
            return True
    return False


def _stand_in(change: dict[str, Any]) -> tuple[bool, str]:
    """A terraform_data marked stateful in its input (before or after the change)."""
    for side in ("before", "after"):
        values = change.get(side)
        if not isinstance(values, dict):
            continue
        data = values.get("input")
        if isinstance(data, dict) and data.get("stateful") is True:
            return True, str(data.get("type") or "stateful stand-in")
    return False, ""


def kind_of(resource: dict[str, Any], stateful_types: Sequence[str]) -> str | None:
    """What stateful thing this planned resource is, or None when it holds no data."""
    resource_type = str(resource.get("type", ""))
    if _type_matches(resource_type, stateful_types):
        return resource_type
    if str(resource.get("name", "")).startswith(STATEFUL_NAME_PREFIX):
        return f"{resource_type} (named {STATEFUL_NAME_PREFIX}*)"
    if resource_type == "terraform_data":
        marked, stands_for = _stand_in(resource.get("change") or {})
        if marked:
            return f"terraform_data standing in for {stands_for}"
    return None


@final
@dataclass(frozen=True, slots=True)
class Destructive:
    address: str
    action: str  # "delete" or "replace"
    kind: str

    def describe(self) -> str:
        return f"{self.address} ({self.kind}) would be {self.action}d"


@final
@dataclass(slots=True)
class PlanReview:
    add: int = 0
    change: int = 0
    destroy: int = 0
    unchanged: int = 0
    destructive: list[Destructive] = field(default_factory=list)
    allowed: bool = False

    @property
    def refused(self) -> bool:
        return bool(self.destructive) and not self.allowed

    def summary(self) -> str:
        return f"{self.add} to add, {self.change} to change, {self.destroy} to destroy"

    def to_json(self) -> dict[str, Any]:
        return {
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            "unchanged": self.unchanged,
            "stateful_deletes": [d.describe() for d in self.destructive],
            "allowed_by_environment": self.allowed,
            "refused": self.refused,
        }


def review(plan: dict[str, Any], stateful_types: Sequence[str], *, allow: bool) -> PlanReview:
    """Count the plan's actions the way terraform does and find stateful deletes."""
    result = PlanReview(allowed=allow)
    for resource in plan.get("resource_changes", []) or []:
        if resource.get("mode", "managed") != "managed":
            continue
        actions = list((resource.get("change") or {}).get("actions", []))
        address = str(resource.get("address", "?"))
        if actions in (["no-op"], ["read"], []):
            result.unchanged += 1
            continue
        if "create" in actions:
            result.add += 1
        if "delete" in actions:
            result.destroy += 1
        if actions == ["update"]:
            result.change += 1
        if "delete" in actions:
            kind = kind_of(resource, stateful_types)
            if kind is not None:
                action = "replace" if "create" in actions else "delete"
                result.destructive.append(Destructive(address, action, kind))
    return result
