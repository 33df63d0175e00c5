"""Accepted risks: `waivers.toml`, read strictly, applied to failed results.

A row needs check, reason, owner and expires (a UTC date); resource is optional and may
be a glob; environments optionally limits the row to some environments of readiness.toml.
Expired rows are ignored and listed; rows that cover no failure are stale.
Only a failure can be waived: an error or a check that could not read its data cannot.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reports.outcomes import Outcome, Result, WaiverRef


class WaiverFileError(Exception):
    """The waiver file cannot be trusted; the message names the place and the problem."""


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = Field(min_length=1)
    resource: str | None = Field(default=None, min_length=1)
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: dt.date
    ticket: str | None = None
    # Environments (readiness.toml names) the row is for; absent means every environment.
    environments: tuple[str, ...] | None = Field(default=None, min_length=1)

    @field_validator("check", "reason", "owner")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("expires", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            raise ValueError("must be a date (YYYY-MM-DD), not a date-time")
        return value

    def matches(self, check_id: str, resource: str) -> bool:
        if self.check != check_id:
            return False
        return self.resource is None or fnmatch.fnmatchcase(resource, self.resource)

    def concerns(self, environment: str | None) -> bool:
        """Rows scoped to other environments are not part of this run at all."""
        return self.environments is None or environment in self.environments

    def days_left(self, today: dt.date) -> int:
        return (self.expires - today).days

    def ref(self, today: dt.date) -> WaiverRef:
        return WaiverRef(
            check=self.check,
            resource=self.resource,
            owner=self.owner,
            reason=self.reason,
            expires=self.expires.isoformat(),
            days_left=self.days_left(today),
        )


class WaiverState(StrEnum):
    APPLIED = "applied"
    STALE = "stale"
    EXPIRED = "expired"


@final
@dataclass(frozen=True, slots=True)
class WaiverStatus:
    waiver: Waiver
    state: WaiverState
    covered: tuple[str, ...] = ()

    def to_json(self, today: dt.date) -> dict[str, Any]:
        return {
            "check_id": self.waiver.check,
            "resource": self.waiver.resource,
            "owner": self.waiver.owner,
            "reason": self.waiver.reason,
            "expires": self.waiver.expires.isoformat(),
            "days_left": self.waiver.days_left(today),
            "state": self.state.value,
            "covered": list(self.covered),
        }


def _shortened(text: str, limit: int = 80) -> str:
    """A value echoed in a message stays readable however long the file's value is."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_location(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "(row)"


def parse_waivers(text: str, source: str) -> list[Waiver]:
    """Parse the waiver file's text; raise WaiverFileError naming row and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WaiverFileError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"waiver"})
    if unknown:
        raise WaiverFileError(
            f"{source}: unknown top-level key {unknown[0]!r} (rows are [[waiver]] tables)"
        )
    rows = data.get("waiver", [])
    if not isinstance(rows, list):
        raise WaiverFileError(f"{source}: 'waiver' must be an array of tables ([[waiver]])")
    waivers: list[Waiver] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise WaiverFileError(f"{source}: waiver #{number}: must be a table")
        label = f"waiver #{number}"
        check = row.get("check")
        if isinstance(check, str) and check.strip():
            label += f" (check {_shortened(check.strip())!r})"
        try:
            waivers.append(Waiver.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = _describe_location(first["loc"])
            message = first["msg"]
            if first["type"] == "missing":
                message = "required field is missing"
            elif first["type"] == "extra_forbidden":
                message = "unknown field"
            raise WaiverFileError(f"{source}: {label}: field {field!r}: {message}") from None
    return waivers


def load_waivers(path: Path) -> list[Waiver]:
    """Read the waiver file; a missing file means no accepted risks."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WaiverFileError(f"{path}: cannot be read: {exc}") from None
    return parse_waivers(text, str(path))


def apply_waivers(
    results: Iterable[Result],
    waivers: Sequence[Waiver],
    today: dt.date,
    environment: str | None = None,
) -> tuple[list[Result], list[WaiverStatus]]:
    """Turn failures covered by a valid waiver into WAIVED; report the state of every
    waiver that concerns this environment."""
    waivers = [w for w in waivers if w.concerns(environment)]
    live = [w for w in waivers if w.days_left(today) >= 0]
    covered: dict[int, list[str]] = {id(w): [] for w in waivers}
    out: list[Result] = []
    for result in results:
        match = None
        if result.outcome is Outcome.FAILED:
            match = next((w for w in live if w.matches(result.check.id, result.resource)), None)
        if match is None:
            out.append(result)
            continue
        covered[id(match)].append(_label(result))
        out.append(
            replace(
                result, outcome=Outcome.WAIVED, original=Outcome.FAILED, waiver=match.ref(today)
            )
        )
    statuses: list[WaiverStatus] = []
    for waiver in waivers:
        if waiver.days_left(today) < 0:
            state = WaiverState.EXPIRED
        elif covered[id(waiver)]:
            state = WaiverState.APPLIED
        else:
            state = WaiverState.STALE
        statuses.append(WaiverStatus(waiver, state, tuple(covered[id(waiver)])))
    return out, statuses


def _label(result: Result) -> str:
    return f"{result.check.id} [{result.resource}]" if result.resource else result.check.id
