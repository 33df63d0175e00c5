"""Collection-time rules for checks: markers, metadata, one effective severity.

A check that breaks a rule becomes a failed collect report with a message naming it,
which the controller sees in-process and under xdist alike. The metadata of a valid
check travels in `item.user_properties`, which survives xdist's serialisation.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from reports.outcomes import CATEGORIES, PHASES, CheckMeta, Severity

PROPERTY = "readiness"
CHECK_ID = re.compile(r"^[a-z0-9][a-z0-9.-]{1,80}$")

MARKERS = (
    "preflight: phase: credentials and quick health check (seed steps 1-2)",
    "audit: phase: the go/no-go audit (seed step 3)",
    "deploy: phase: the deploy phases 1-4 with rollback (seed step 4)",
    "postdeploy: phase: validation after apply and the monitoring windows (seed step 5)",
    "critical: severity: a failure means NO-GO",
    "warning: severity: a failure means CONDITIONAL GO",
    "check(id, title, category, risk='', remediation='', references=()): check metadata",
)


def register_markers(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)


def _severity(item: pytest.Item) -> tuple[Severity | None, str | None]:
    """The closest node that names a severity decides; it must name exactly one."""
    by_node: dict[int, list[str]] = {}
    order: list[int] = []
    for node, mark in item.iter_markers_with_node():
        if mark.name in ("critical", "warning"):
            key = id(node)
            if key not in by_node:
                by_node[key] = []
                order.append(key)
            by_node[key].append(mark.name)
    if not order:
        return None, "no severity marker: add @pytest.mark.critical or @pytest.mark.warning"
    closest = set(by_node[order[0]])
    if len(closest) > 1:
        return None, "both critical and warning at the same level: keep exactly one"
    return Severity(closest.pop()), None


def _phase(item: pytest.Item) -> tuple[str | None, str | None]:
    phases = {m.name for m in item.iter_markers() if m.name in PHASES}
    if len(phases) != 1:
        found = ", ".join(sorted(phases)) or "none"
        return None, f"needs exactly one phase marker ({', '.join(PHASES)}); found {found}"
    return phases.pop(), None


def _meta(item: pytest.Item) -> tuple[CheckMeta | None, str | None]:
    mark = item.get_closest_marker("check")
    if mark is None:
        return None, "no @pytest.mark.check(id=..., title=..., category=...) metadata"
    fields: dict[str, Any] = dict(mark.kwargs)
    if mark.args:
        fields.setdefault("id", mark.args[0])
    check_id = fields.get("id")
    if not isinstance(check_id, str) or not CHECK_ID.match(check_id):
        return None, f"check id {check_id!r} must match {CHECK_ID.pattern}"
    for required in ("title", "category"):
        if not isinstance(fields.get(required), str) or not fields[required].strip():
            return None, f"check {check_id}: {required!r} is required"
    if fields["category"] not in CATEGORIES:
        return None, f"check {check_id}: category {fields['category']!r} not in {CATEGORIES}"
    unknown = set(fields) - {"id", "title", "category", "risk", "remediation", "references"}
    if unknown:
        return None, f"check {check_id}: unknown metadata {sorted(unknown)}"
    refs = fields.get("references", ())
    if isinstance(refs, str):
        refs = (refs,)
    return (
        CheckMeta(
            id=check_id,
            title=fields["title"].strip(),
            category=fields["category"],
            risk=str(fields.get("risk", "")).strip(),
            remediation=str(fields.get("remediation", "")).strip(),
            references=tuple(str(r) for r in refs),
        ),
        None,
    )


def resource_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return str(callspec.id) if callspec is not None else ""


def inspect_item(item: pytest.Item) -> list[str]:
    """Validate one check and tag it with its metadata; return its problems."""
    problems: list[str] = []
    severity, why = _severity(item)
    if why:
        problems.append(why)
    phase, why = _phase(item)
    if why:
        problems.append(why)
    meta, why = _meta(item)
    if why:
        problems.append(why)
    if problems or severity is None or phase is None or meta is None:
        return problems
    item.user_properties.append(
        (
            PROPERTY,
            json.dumps(
                {
                    "check": meta.to_json(),
                    "severity": severity.value,
                    "phase": phase,
                    "resource": resource_of(item),
                }
            ),
        )
    )
    return []


def tag_of(user_properties: list[tuple[str, object]]) -> dict[str, Any] | None:
    for key, value in user_properties:
        if key == PROPERTY and isinstance(value, str):
            try:
                data = json.loads(value)
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None
