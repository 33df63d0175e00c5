"""The verdict rules: outcomes and run problems in, GO / CONDITIONAL GO / NO-GO out.

Pure functions, so the rules can be tested as properties. Fail-closed: anything the
rules do not know how to judge counts against the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import final

from reports.outcomes import Outcome, Result, Severity


class Verdict(IntEnum):
    GO = 0
    CONDITIONAL = 1
    NO_GO = 2

    @property
    def label(self) -> str:
        return {0: "GO", 1: "CONDITIONAL GO", 2: "NO-GO"}[self.value]

    @property
    def key(self) -> str:
        return {0: "GO", 1: "CONDITIONAL_GO", 2: "NO_GO"}[self.value]


@final
@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return int(self.verdict)


def judge(result: Result) -> Verdict:
    """What one result alone does to the verdict."""
    outcome = result.outcome
    if outcome is Outcome.ERROR:
        return Verdict.NO_GO
    if outcome in (Outcome.PASSED, Outcome.NOT_APPLICABLE):
        return Verdict.GO
    if outcome is Outcome.WAIVED:
        if result.original not in (Outcome.FAILED, Outcome.NOT_EVALUATED):
            return Verdict.NO_GO  # only a failure or unreadable data can be waived
        # A waived critical counts as a warning at best; a waived warning is accepted.
        # The same rule whether the waiver accepted a failure or data it could not read.
        return Verdict.CONDITIONAL if result.severity is Severity.CRITICAL else Verdict.GO
    if outcome in (Outcome.FAILED, Outcome.NOT_EVALUATED):
        return Verdict.NO_GO if result.severity is Severity.CRITICAL else Verdict.CONDITIONAL
    return Verdict.NO_GO  # an outcome this code does not know


def _reason(result: Result) -> str:
    where = f" [{result.resource}]" if result.resource else ""
    return f"{result.severity.value} {result.outcome_label}: {result.check.id}{where}"


def decide(results: Iterable[Result], problems: Iterable[str] = ()) -> Decision:
    """Fold every result and every run-level problem into one decision."""
    reasons: list[str] = [f"run problem: {p}" for p in problems]
    verdict = Verdict.NO_GO if reasons else Verdict.GO
    seen = 0
    for result in results:
        seen += 1
        effect = judge(result)
        if effect is not Verdict.GO:
            reasons.append(_reason(result))
        verdict = max(verdict, effect)
    if seen == 0:
        reasons.append("run problem: no check ran")
        verdict = Verdict.NO_GO
    return Decision(verdict=verdict, reasons=tuple(reasons))
