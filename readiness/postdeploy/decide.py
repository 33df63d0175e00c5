"""The rollback decision tree as one table: what a monitoring round leads to.

Pure: a round's verdict becomes `RoundSignals`, the rounds so far a `History`, and
`decide` picks the first row of `TABLE` that matches. `readiness watch` and
`readiness go-live --monitor` both act on the `Ruling` it returns (docs/postdeploy.md
shows the same table).

- a critical check failed                            → immediate rollback
- a critical check unreadable M rounds in a row     → treated as failed: rollback
- the same warning N rounds in a row                 → rollback
- a critical check unreadable (not-evaluated, error,
  or the round gave no trusted verdict)              → notify, prepare the rollback
- a warning                                          → investigate, notify, prepare
- all clear after a prepared round                   → continue, notify "resolved"
- all clear                                          → continue

N is `[postdeploy] rollback_after_warning_rounds`, M `rollback_after_blind_rounds`
(both 3 by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, final

OPEN = ("failed", "error", "not-evaluated")
NO_GO = 2


class Action(StrEnum):
    CONTINUE = "continue"
    PREPARED = "rollback prepared"
    ROLLBACK = "rollback"
    INTERRUPTED = "interrupted"


@final
@dataclass(frozen=True, slots=True)
class Row:
    """One line of the decision table."""

    id: str
    when: str
    action: Action
    says: str
    cause: str = ""  # a rollback row: what the rollback was for, in a few words


CRITICAL_FAILED = Row(
    "critical-failed",
    "a critical check failed",
    Action.ROLLBACK,
    "critical failure: rollback",
    "a critical failure",
)
BLIND_PERSISTS = Row(
    "critical-blind-persists",
    "a critical check unreadable in M consecutive rounds: treated as failed",
    Action.ROLLBACK,
    "critical checks unreadable for {blind} rounds, treated as failed: rollback",
    "critical checks unreadable round after round",
)
WARNING_PERSISTS = Row(
    "warning-persists",
    "the same warning in N consecutive rounds: not resolved",
    Action.ROLLBACK,
    "warning not resolved after {warning} rounds: rollback",
    "an unresolved warning",
)
CRITICAL_BLIND = Row(
    "critical-blind",
    "a critical check unreadable (not-evaluated, error, or the round gave no trusted verdict)",
    Action.PREPARED,
    "critical checks unreadable ({blind} of {blind_limit} rounds): notify, rollback prepared",
)
WARNING = Row(
    "warning",
    "a warning (a warning check failed, errored or was not evaluated)",
    Action.PREPARED,
    "warnings: investigate, monitor closely, rollback prepared",
)
RESOLVED = Row(
    "resolved",
    "all clear after a round that prepared the rollback",
    Action.CONTINUE,
    "resolved, monitoring continues",
)
ALL_CLEAR = Row("all-clear", "all clear", Action.CONTINUE, "all clear")

# First match wins.
TABLE: tuple[Row, ...] = (
    CRITICAL_FAILED,
    BLIND_PERSISTS,
    WARNING_PERSISTS,
    CRITICAL_BLIND,
    WARNING,
    RESOLVED,
    ALL_CLEAR,
)

ROWS: dict[str, Row] = {row.id: row for row in TABLE}


@final
@dataclass(frozen=True, slots=True)
class Limits:
    """How many rounds in a row a warning, or a blind critical, is tolerated."""

    warning_rounds: int = 3
    blind_rounds: int = 3

    def __post_init__(self) -> None:
        if self.warning_rounds < 1 or self.blind_rounds < 1:
            raise ValueError("the rounds before a rollback must be at least 1")


def _key(result: Mapping[str, Any]) -> str:
    where = f" [{result.get('resource')}]" if result.get("resource") else ""
    return f"{result.get('check_id', '(unknown)')}{where}"


@final
@dataclass(frozen=True, slots=True)
class RoundSignals:
    """What one round says, in the terms of the decision tree."""

    critical_failed: tuple[str, ...] = ()
    critical_blind: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    no_verdict: str = ""  # why the round gave no trusted verdict ("" when it did)

    @classmethod
    def of(cls, exit_code: int, verdict: Mapping[str, Any] | None, reason: str) -> RoundSignals:
        """From a gate run: its exit code, verdict.json (None if unreadable), distrust."""
        if reason or verdict is None:
            return cls(no_verdict=reason or "the round wrote no verdict.json")
        results = [r for r in verdict.get("results") or [] if isinstance(r, Mapping)]
        failed, blind, warnings, accepted = [], [], [], []
        for r in results:
            outcome = r.get("outcome")
            if outcome == "waived":
                # An accepted risk (owner, expiry): present before this deploy as well,
                # so it is no reason to roll the deploy back, however long it lasts.
                accepted.append(_key(r))
            elif r.get("severity") == "critical":
                if outcome == "failed":
                    failed.append(_key(r))
                elif outcome in ("error", "not-evaluated"):
                    blind.append(_key(r))
            elif outcome in OPEN:
                warnings.append(_key(r))
        no_verdict = ""
        if exit_code == NO_GO and not failed and not blind:
            problems = [str(p) for p in verdict.get("problems") or []]
            no_verdict = "NO-GO without a failed check" + (f": {problems[0]}" if problems else "")
        elif exit_code != 0 and not (failed or blind or warnings or accepted):
            warnings.append(f"verdict {verdict.get('verdict_label', exit_code)}")
        return cls(tuple(failed), tuple(blind), tuple(dict.fromkeys(warnings)), no_verdict)

    @property
    def blind(self) -> bool:
        return bool(self.critical_blind or self.no_verdict)


@final
@dataclass(frozen=True, slots=True)
class History:
    """The rounds so far: how long each warning and the blindness have lasted."""

    warning_streaks: Mapping[str, int] = field(default_factory=dict)
    blind_streak: int = 0
    last: Row | None = None

    def after(self, signals: RoundSignals) -> History:
        """The history including this round (the last row is set by `decide`)."""
        if signals.no_verdict:  # nothing could be read: no warning is seen, none resolved
            streaks = dict(self.warning_streaks)
        else:
            streaks = {key: self.warning_streaks.get(key, 0) + 1 for key in signals.warnings}
        blind = self.blind_streak + 1 if signals.blind else 0
        return History(streaks, blind, self.last)

    @property
    def longest_warning(self) -> int:
        return max(self.warning_streaks.values(), default=0)


@final
@dataclass(frozen=True, slots=True)
class Ruling:
    """The decision for one round and whether to tell the team."""

    row: Row
    notify: bool
    headline: str
    summary: str  # for the progress line: "2 warnings under investigation"
    history: History

    @property
    def action(self) -> Action:
        return self.row.action


def _matches(row: Row, s: RoundSignals, h: History, limits: Limits) -> bool:
    if row is CRITICAL_FAILED:
        return bool(s.critical_failed)
    if row is BLIND_PERSISTS:
        return s.blind and h.blind_streak >= limits.blind_rounds
    if row is WARNING_PERSISTS:
        return h.longest_warning >= limits.warning_rounds
    if row is CRITICAL_BLIND:
        return s.blind
    if row is WARNING:
        return bool(s.warnings)
    if row is RESOLVED:
        return h.last is not None and h.last.action is Action.PREPARED
    return row is ALL_CLEAR


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_of(s: RoundSignals, h: History) -> str:
    parts = []
    if s.critical_failed:
        parts.append(_count(len(s.critical_failed), "critical failure"))
    if s.critical_blind:
        parts.append(f"{_count(len(s.critical_blind), 'critical')} unreadable")
    if s.no_verdict:
        parts.append("no trusted verdict")
    if s.warnings:
        parts.append(f"{_count(len(s.warnings), 'warning')} under investigation")
    return ", ".join(parts) or "all clear"


def decide(signals: RoundSignals, before: History, limits: Limits) -> Ruling:
    """The first row of TABLE that this round (and the rounds before it) matches."""
    history = before.after(signals)
    row = next(r for r in TABLE if _matches(r, signals, history, limits))
    changed = before.last is None or before.last.id != row.id
    notify = row.action is Action.ROLLBACK or row is RESOLVED
    notify = notify or (row.action is Action.PREPARED and changed)
    headline = row.says.format(
        blind=history.blind_streak,
        blind_limit=limits.blind_rounds,
        warning=history.longest_warning,
    )
    settled = History(history.warning_streaks, history.blind_streak, row)
    return Ruling(row, notify, headline, summary_of(signals, history), settled)


def table_markdown(rows: Sequence[Row] = TABLE) -> str:
    """The table as docs/postdeploy.md shows it (a selftest keeps the two equal)."""
    lines = ["| row | the round (first match wins) | decision |", "|---|---|---|"]
    lines += [f"| `{r.id}` | {r.when} | {r.action.value} |" for r in rows]
    return "\n".join(lines)
