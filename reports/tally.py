"""Turns pytest's per-phase reports into one Result per check and resource.

Works from the reports alone (what the xdist controller sees), so in-process and
distributed runs give the same results. Anything unexpected counts against the run:
an unknown severity is critical, an xfail or a stray skip is not a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, final

import pytest

from reports.outcomes import UNKNOWN_CHECK, CheckMeta, Outcome, Result, Severity
from reports.policing import tag_of

HINT = "readiness.outcome"
NOT_APPLICABLE = "not-applicable"
NOT_EVALUATED = "not-evaluated"
_MAX_MESSAGE = 2000


def outcome_hint(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str:
    """How a failed call should count: an assertion (or pytest.fail) is a failure; any
    other exception means the check itself broke, and a timeout is an error too."""
    if excinfo is None:
        return "passed"
    if excinfo.errisinstance(AssertionError):
        return "failed"
    if excinfo.errisinstance(pytest.fail.Exception):
        text = str(excinfo.value)
        return "error" if text.startswith("Timeout") else "failed"
    if excinfo.errisinstance(pytest.skip.Exception):
        return "skipped"
    return "error"


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        text = str(longrepr[2])
    else:
        text = str(longrepr)
    return text.removeprefix("Skipped: ").strip()


def _failure_message(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr: Any = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    text = str(getattr(crash, "message", "") or longrepr or "")
    text = text.removeprefix("AssertionError: ").removeprefix("Failed: ")
    return text.strip()[:_MAX_MESSAGE]


def classify_skip(reason: str) -> tuple[Outcome, str]:
    """`not-applicable: ...` is the only skip that is not held against the run."""
    if reason.startswith(NOT_APPLICABLE):
        return Outcome.NOT_APPLICABLE, reason.removeprefix(NOT_APPLICABLE).lstrip(": ").strip()
    if reason.startswith(NOT_EVALUATED):
        return Outcome.NOT_EVALUATED, reason.removeprefix(NOT_EVALUATED).lstrip(": ").strip()
    return Outcome.NOT_EVALUATED, f"skipped without a verdict: {reason}"


def report_outcome(report: pytest.TestReport) -> Outcome:
    """The outcome one phase report stands for, on its own."""
    if hasattr(report, "wasxfail") or report.when not in ("setup", "call", "teardown"):
        return Outcome.ERROR
    if report.skipped:
        return classify_skip(_skip_reason(report))[0]
    if report.failed:
        hint = next((v for k, v in report.user_properties if k == HINT), None)
        return Outcome.FAILED if report.when == "call" and hint == "failed" else Outcome.ERROR
    return Outcome.PASSED


@dataclass(slots=True)
class _Entry:
    tag: dict[str, Any] | None = None
    outcome: Outcome | None = None
    message: str = ""
    duration: float = 0.0
    done: bool = False

    def settle(self, outcome: Outcome, message: str) -> None:
        # An error is never softened by a later phase of the same test.
        if self.outcome is Outcome.ERROR:
            return
        self.outcome = outcome
        self.message = message


@final
class ResultBook:
    """Accumulates reports on the controller (or in-process)."""

    __slots__ = ("_entries", "collection_errors", "expected")

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self.expected: list[str] | None = None
        self.collection_errors: list[str] = []

    def expect(self, nodeids: list[str]) -> None:
        if self.expected is None:
            self.expected = list(nodeids)

    def add_collect_report(self, report: pytest.CollectReport) -> None:
        where = report.nodeid or "(session)"
        if report.failed:
            self.collection_errors.append(
                f"collection error in {where}: {_failure_message(report)}"
            )
        elif report.skipped:
            # pytest.skip(allow_module_level=True) or importorskip: the module's checks
            # never became tests, so nothing else would ever show they are missing.
            self.collection_errors.append(
                f"{where} was skipped at collection, none of its checks ran: {_skip_reason(report)}"
            )

    def add(self, report: pytest.TestReport) -> None:
        entry = self._entries.setdefault(report.nodeid, _Entry())
        tag = tag_of(list(report.user_properties))
        if tag is not None:
            entry.tag = tag
        entry.duration += float(report.duration or 0.0)
        if report.when not in ("setup", "call", "teardown"):
            entry.settle(Outcome.ERROR, f"the run crashed here: {_failure_message(report)}")
            entry.done = True
            return
        if hasattr(report, "wasxfail"):
            entry.settle(Outcome.ERROR, "xfail is not allowed in checks: use a waiver")
        elif report.skipped:
            entry.settle(*classify_skip(_skip_reason(report)))
        elif report.failed:
            prefix = "" if report.when == "call" else f"{report.when} error: "
            entry.settle(report_outcome(report), prefix + _failure_message(report))
        elif report.when == "call":
            entry.settle(Outcome.PASSED, "")
        if report.when == "teardown":
            entry.done = True

    def crash(self, nodeid: str, tag: dict[str, Any] | None, message: str) -> None:
        """The process is about to end inside this check (a thread-method timeout)."""
        entry = self._entries.setdefault(nodeid, _Entry())
        if tag is not None:
            entry.tag = tag
        entry.settle(Outcome.ERROR, message)
        entry.done = True

    def results(self) -> list[Result]:
        out = []
        for nodeid, entry in self._entries.items():
            if not entry.done or entry.outcome is None:
                continue
            out.append(_result(nodeid, entry))
        return out

    def unfinished(self) -> list[str]:
        finished = {n for n, e in self._entries.items() if e.done and e.outcome is not None}
        expected = self.expected or []
        missing = [n for n in expected if n not in finished]
        started = [n for n, e in self._entries.items() if not e.done and n not in missing]
        return missing + started


def _result(nodeid: str, entry: _Entry) -> Result:
    tag = entry.tag or {}
    try:
        check = CheckMeta.from_json(tag["check"])
    except (KeyError, TypeError):
        check = CheckMeta(id=UNKNOWN_CHECK.id, title=nodeid, category=UNKNOWN_CHECK.category)
    try:
        severity = Severity(str(tag.get("severity")))
    except ValueError:
        severity = Severity.CRITICAL  # unknown severity is treated as critical
    assert entry.outcome is not None
    return Result(
        nodeid=nodeid,
        check=check,
        severity=severity,
        outcome=entry.outcome,
        resource=str(tag.get("resource", "")),
        message=entry.message,
        phase=str(tag.get("phase", "")),
        duration=entry.duration,
    )
