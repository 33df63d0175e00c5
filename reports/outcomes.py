"""The outcome model: what one check said about one resource."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, final

CATEGORIES = (
    "infrastructure",
    "security",
    "cost",
    "monitoring",
    "operations",
    "preflight",
    "deploy",
    "postdeploy",
)
PHASES = ("preflight", "audit", "deploy", "postdeploy")
# How every output names a waived not-evaluated result (a waived failure is "waived").
WAIVED_NOT_EVALUATED = "waived: not evaluated"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    NOT_EVALUATED = "not-evaluated"
    NOT_APPLICABLE = "not-applicable"
    WAIVED = "waived"


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"


@final
@dataclass(frozen=True, slots=True)
class CheckMeta:
    """Metadata of one criterion, taken from its `check` marker."""

    id: str
    title: str
    category: str
    risk: str = ""
    remediation: str = ""
    references: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "risk": self.risk,
            "remediation": self.remediation,
            "references": list(self.references),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckMeta:
        return cls(
            id=str(data["id"]),
            title=str(data.get("title", "")),
            category=str(data.get("category", "")),
            risk=str(data.get("risk", "")),
            remediation=str(data.get("remediation", "")),
            references=tuple(str(r) for r in data.get("references", ())),
        )


UNKNOWN_CHECK = CheckMeta(id="(unknown)", title="(unknown)", category="operations")


@final
@dataclass(frozen=True, slots=True)
class WaiverRef:
    """The waiver that covered a result (or was considered for it)."""

    check: str
    resource: str | None
    owner: str
    reason: str
    expires: str
    days_left: int
    # The outcome the waiver accepted: "failed", or "not-evaluated" (unreadable data).
    covers: str = "failed"


@final
@dataclass(frozen=True, slots=True)
class Result:
    """One check on one resource, after the run (and after waivers)."""

    nodeid: str
    check: CheckMeta
    severity: Severity
    outcome: Outcome
    resource: str = ""
    message: str = ""
    phase: str = ""
    duration: float = 0.0
    waiver: WaiverRef | None = None
    # The outcome before a waiver turned it into WAIVED.
    original: Outcome | None = field(default=None)

    @property
    def counts_as(self) -> Outcome:
        return self.original or self.outcome

    @property
    def outcome_label(self) -> str:
        """The outcome as the reports name it: a waiver of a check that could not read its
        data reads "waived: not evaluated", never like a waived failure ("waived")."""
        if self.outcome is Outcome.WAIVED and self.original is Outcome.NOT_EVALUATED:
            return WAIVED_NOT_EVALUATED
        return self.outcome.value

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "check_id": self.check.id,
            "title": self.check.title,
            "category": self.check.category,
            "severity": self.severity.value,
            "outcome": self.outcome.value,
            "resource": self.resource,
            "message": self.message,
            "remediation": self.check.remediation,
            "phase": self.phase,
            "nodeid": self.nodeid,
            "duration_s": round(self.duration, 3),
        }
        if self.waiver is not None:
            data["waiver"] = {
                "owner": self.waiver.owner,
                "reason": self.waiver.reason,
                "expires": self.waiver.expires,
                "days_left": self.waiver.days_left,
                "covers": self.waiver.covers,
                "label": self.outcome_label,
            }
        return data
