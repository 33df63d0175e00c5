"""Checks an environment declares not applicable (`not_applicable` in readiness.toml).

An entry in force (its review date, a UTC day, not passed) makes every result of its
check not-applicable with the entry's reason: the check is not run. An overdue entry no
longer applies: the check is judged as usual and the reports say the entry is overdue.
The reports learn both through `pytest_readiness_not_applicable`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from readiness.config import Environment, NotApplicable

CATALOGUE_NAME = "catalogue.json"  # in the checks folder
IN_FORCE = "in-force"
OVERDUE = "overdue"


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def catalogue_phases(path: Path) -> dict[str, str] | None:
    """Check id -> phase, from checks/catalogue.json; None when it cannot be read (the
    verdict plugin makes that a problem of its own)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rows = data.get("checks") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        return None
    return {
        str(row["id"]): str(row.get("phase", ""))
        for row in rows
        if isinstance(row, dict) and isinstance(row.get("id"), str)
    }


def in_force(environment: Environment, today: dt.date) -> dict[str, NotApplicable]:
    """Check id -> the entry that makes its results not-applicable today."""
    return {e.check: e for e in environment.not_applicable if not e.overdue(today)}


def skip_reason(entry: NotApplicable, environment: str) -> str:
    """The skip message: the tally reads it as not-applicable with this reason."""
    return (
        f"not-applicable: {entry.reason} (not applicable in environment {environment}: "
        f"owner {entry.owner}, review by {entry.review.isoformat()})"
    )


def report_rows(environment: Environment, today: dt.date) -> list[dict[str, Any]]:
    """What every report lists under "not applicable here"."""
    return [
        {
            "check_id": e.check,
            "reason": e.reason,
            "owner": e.owner,
            "review": e.review.isoformat(),
            "state": OVERDUE if e.overdue(today) else IN_FORCE,
        }
        for e in environment.not_applicable
    ]
