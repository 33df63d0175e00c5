"""Accepted risks: `waivers.toml`, read strictly, applied to failed or not-evaluated results.

A row needs check, reason, owner and expires (a UTC date, or a UTC date-time); resource
is optional and may be a glob; environments optionally limits the row to some
environments of readiness.toml; covers says which one outcome it accepts: `failed` (the
default) or `not-evaluated` (the data could not be read). Expired rows are ignored and
listed; rows that cover no result are stale. An error can never be waived. An expiry
further ahead than the configured cap makes the whole file invalid.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reports.outcomes import Outcome, Result, WaiverRef


class WaiverFileError(Exception):
    """The waiver file cannot be trusted; the message names the place and the problem."""


# The outcomes a row may accept, one per row; an error is never among them.
Covers = Literal["failed", "not-evaluated"]
# How far ahead an `expires` may be when readiness.toml does not say (waiver_max_days).
DEFAULT_MAX_DAYS = 365
_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?$"
)
_WRITE_UTC = "write a UTC date (YYYY-MM-DD) or a UTC date-time ending in Z"


def _utc_expiry(value: Any) -> Any:
    """A plain date, or a date-time in UTC; anything local or offset is refused."""
    shown = value.isoformat() if isinstance(value, dt.date) else _shortened(str(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            if _PLAIN_DATE.match(text):
                return dt.date.fromisoformat(text)
            if not _DATE_TIME.match(text):
                raise ValueError(text)
            value = dt.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{shown!r} is not a date: {_WRITE_UTC}") from None
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        if offset is None:
            raise ValueError(f"{shown} is a local date-time with no offset: {_WRITE_UTC}")
        if offset != dt.timedelta(0):
            raise ValueError(f"{shown} is not in UTC: {_WRITE_UTC}")
        return value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"must be a date: {_WRITE_UTC}")


def _moment(when: dt.date) -> dt.datetime:
    """A point in time, UTC; a date stands for the start of that UTC day."""
    if isinstance(when, dt.datetime):
        return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(when, dt.time.min, dt.UTC)


def _day(when: dt.date) -> dt.date:
    return _moment(when).date() if isinstance(when, dt.datetime) else when


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = Field(min_length=1)
    resource: str | None = Field(default=None, min_length=1)
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: dt.datetime | dt.date
    ticket: str | None = None
    # The one outcome the row accepts: a known defect, or not knowing (unreadable data).
    covers: Covers = "failed"
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
    def _utc_only(cls, value: Any) -> Any:
        return _utc_expiry(value)

    def matches(self, check_id: str, resource: str) -> bool:
        if self.check != check_id:
            return False
        return self.resource is None or fnmatch.fnmatchcase(resource, self.resource)

    def accepts(self, result: Result) -> bool:
        """The row is written for this result's outcome (an error never is)."""
        return result.outcome.value == self.covers and self.matches(
            result.check.id, result.resource
        )

    @property
    def expires_on(self) -> dt.date:
        """The UTC day of the expiry."""
        return _day(self.expires)

    @property
    def ends_at(self) -> dt.datetime:
        """The first moment the row no longer applies: after the end of a plain date's
        UTC day, or at a date-time's own moment."""
        if isinstance(self.expires, dt.datetime):
            return _moment(self.expires)
        return _moment(self.expires + dt.timedelta(days=1))

    @property
    def expires_text(self) -> str:
        if isinstance(self.expires, dt.datetime):
            return _moment(self.expires).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.expires.isoformat()

    def expired(self, now: dt.date) -> bool:
        """`now` is a UTC date-time, or a date meaning the start of that UTC day."""
        return _moment(now) >= self.ends_at

    def concerns(self, environment: str | None) -> bool:
        """Rows scoped to other environments are not part of this run at all."""
        return self.environments is None or environment in self.environments

    def days_left(self, today: dt.date) -> int:
        return (self.expires_on - _day(today)).days

    def ref(self, today: dt.date) -> WaiverRef:
        return WaiverRef(
            check=self.check,
            resource=self.resource,
            owner=self.owner,
            reason=self.reason,
            expires=self.expires_text,
            days_left=self.days_left(today),
            covers=self.covers,
        )


# What a waiver can turn into WAIVED: a failure, or a check that could not read its data.
WAIVABLE = (Outcome.FAILED, Outcome.NOT_EVALUATED)


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
            "expires": self.waiver.expires_text,
            "days_left": self.waiver.days_left(today),
            "covers": self.waiver.covers,
            "state": self.state.value,
            "covered": list(self.covered),
        }


def _shortened(text: str, limit: int = 80) -> str:
    """A value echoed in a message stays readable however long the file's value is."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_location(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "(row)"


def _row_label(number: int, check: object) -> str:
    label = f"waiver #{number}"
    if isinstance(check, str) and check.strip():
        label += f" (check {_shortened(check.strip())!r})"
    return label


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
        label = _row_label(number, row.get("check"))
        try:
            waivers.append(Waiver.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = _describe_location(first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
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


def check_expiry_cap(waivers: Sequence[Waiver], max_days: int, today: dt.date, source: str) -> None:
    """Every row of the file (whatever environment it is for) expires at most `max_days`
    after `today` (UTC); the cap comes from readiness.toml, never from the waiver file."""
    for number, waiver in enumerate(waivers, start=1):
        ahead = waiver.days_left(today)
        if ahead > max_days:
            raise WaiverFileError(
                f"{source}: {_row_label(number, waiver.check)}: field 'expires': "
                f"{waiver.expires_text} is {ahead} days ahead, more than the {max_days} days "
                "readiness.toml allows (waiver_max_days): set an earlier date and review "
                "the risk again then"
            )


def apply_waivers(
    results: Iterable[Result],
    waivers: Sequence[Waiver],
    today: dt.date,
    environment: str | None = None,
) -> tuple[list[Result], list[WaiverStatus]]:
    """Turn each failed or not-evaluated result that a valid row written for its outcome
    covers into WAIVED; report the state of every waiver that concerns this environment.

    `today` is the UTC date, or the UTC date-time when rows may expire within a day."""
    waivers = [w for w in waivers if w.concerns(environment)]
    live = [w for w in waivers if not w.expired(today)]
    covered: dict[int, list[str]] = {id(w): [] for w in waivers}
    out: list[Result] = []
    for result in results:
        match = None
        if result.outcome in WAIVABLE:
            match = next((w for w in live if w.accepts(result)), None)
        if match is None:
            out.append(result)
            continue
        covered[id(match)].append(_label(result))
        out.append(
            replace(
                result, outcome=Outcome.WAIVED, original=result.outcome, waiver=match.ref(today)
            )
        )
    statuses: list[WaiverStatus] = []
    for waiver in waivers:
        if waiver.expired(today):
            state = WaiverState.EXPIRED
        elif covered[id(waiver)]:
            state = WaiverState.APPLIED
        else:
            state = WaiverState.STALE
        statuses.append(WaiverStatus(waiver, state, tuple(covered[id(waiver)])))
    return out, statuses


def _label(result: Result) -> str:
    return f"{result.check.id} [{result.resource}]" if result.resource else result.check.id
