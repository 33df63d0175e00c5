"""The "not applicable here" list: checks the environment's configuration declares not
applicable, as `pytest_readiness_not_applicable` reports them.

The core skips an entry's check while the entry is in force; the reports only list the
entries, and say which are overdue for review (those no longer apply). A malformed
answer is refused (ValueError): the verdict plugin makes that a run problem.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, final

IN_FORCE = "in-force"
OVERDUE = "overdue"
_FIELDS = ("check_id", "reason", "owner", "review", "state")


@final
@dataclass(frozen=True, slots=True)
class NotApplicableEntry:
    check: str
    reason: str
    owner: str
    review: str  # YYYY-MM-DD, a UTC day
    overdue: bool

    @property
    def state(self) -> str:
        return OVERDUE if self.overdue else IN_FORCE

    @property
    def status(self) -> str:
        """What a reader is told about the entry."""
        if self.overdue:
            return "OVERDUE for review: no longer applies, the check was judged"
        return "not applicable here"

    def to_json(self) -> dict[str, Any]:
        return {
            "check_id": self.check,
            "reason": self.reason,
            "owner": self.owner,
            "review": self.review,
            "state": self.state,
        }


def _entry(row: object, number: int) -> NotApplicableEntry:
    if not isinstance(row, dict):
        raise ValueError(f"not-applicable entry #{number} is not a table")
    values = {key: row.get(key) for key in _FIELDS}
    blank = [key for key, value in values.items() if not isinstance(value, str) or not value]
    if blank:
        raise ValueError(f"not-applicable entry #{number}: {blank[0]} is missing")
    review, state = str(values["review"]), str(values["state"])
    dt.date.fromisoformat(review)  # raises ValueError for anything but a date
    if state not in (IN_FORCE, OVERDUE):
        raise ValueError(f"not-applicable entry #{number}: unknown state {state[:40]!r}")
    return NotApplicableEntry(
        check=str(values["check_id"]),
        reason=str(values["reason"]),
        owner=str(values["owner"]),
        review=review,
        overdue=state == OVERDUE,
    )


def entries_from(answer: object) -> list[NotApplicableEntry]:
    """The hook's answer (None: no plugin knows an environment), checked field by field."""
    if answer is None:
        return []
    if not isinstance(answer, list | tuple):
        raise ValueError("the not-applicable list is not a list")
    return [_entry(row, number) for number, row in enumerate(answer, start=1)]
