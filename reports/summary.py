"""Everything one run has to say, in one object that every output renders."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, final

from reports.applicability import NotApplicableEntry
from reports.coverage import shorten
from reports.evidence import AWS, CUSTOM_ENDPOINT, EMULATOR, gather, target_kind
from reports.outcomes import Outcome, Result, Severity
from reports.verdict import Decision
from reports.waivers import WaiverState, WaiverStatus

SCHEMA_VERSION = 1
OUTCOME_ORDER = tuple(Outcome)


@final
@dataclass(slots=True)
class RunSummary:
    decision: Decision
    results: list[Result]
    waivers: list[WaiverStatus]
    target: dict[str, Any]
    phase: str
    run_id: str
    started: dt.datetime
    finished: dt.datetime
    today: dt.date
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sections: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    # What part of the phase's catalogue was judged (reports.coverage.Coverage.to_json).
    coverage: dict[str, Any] | None = None
    # Checks the environment declares not applicable (in force or overdue for review).
    not_applicable: list[NotApplicableEntry] = field(default_factory=list)
    # What the verdict rests on (reports.evidence.gather): every key, None when unknown.
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """Not the whole phase: every output says so, with what was and was not judged."""
        return self.coverage is None or not self.coverage.get("complete", False)

    @property
    def coverage_line(self) -> str:
        c = self.coverage
        if c is None:
            return "the phase's catalogue could not be compared with this run: judged part unknown"
        expected = int(c.get("checks_in_phase", 0))
        judged = list(c.get("judged", []))
        missing = list(c.get("not_judged", []))
        if c.get("complete"):
            return f"all {expected} checks of phase {c.get('phase')} judged"
        return (
            f"PARTIAL: {len(judged)} of {expected} checks of phase {c.get('phase')} judged "
            f"({shorten(judged) or 'none'}); not judged: {shorten(missing) or 'none'}"
        )

    @property
    def duration_s(self) -> float:
        return (self.finished - self.started).total_seconds()

    def counts(self) -> dict[str, int]:
        counter = Counter(r.outcome.value for r in self.results)
        return {o.value: counter.get(o.value, 0) for o in OUTCOME_ORDER} | {
            "total": len(self.results)
        }

    def counts_by(self, attribute: str) -> dict[str, dict[str, int]]:
        table: dict[str, Counter[str]] = {}
        for r in self.results:
            key = r.severity.value if attribute == "severity" else r.check.category
            table.setdefault(key, Counter())[r.outcome.value] += 1
        return {
            key: {o.value: c.get(o.value, 0) for o in OUTCOME_ORDER} | {"total": sum(c.values())}
            for key, c in sorted(table.items())
        }

    def attention(self) -> list[Result]:
        """Results that keep the run from a clean GO, worst first."""
        rank = {
            Outcome.ERROR: 0,
            Outcome.FAILED: 1,
            Outcome.NOT_EVALUATED: 2,
        }
        bad = [r for r in self.results if r.outcome in rank]
        return sorted(
            bad,
            key=lambda r: (
                r.severity is not Severity.CRITICAL,
                rank[r.outcome],
                r.check.id,
                r.resource,
            ),
        )

    def accepted(self) -> list[Result]:
        return sorted(
            (r for r in self.results if r.outcome is Outcome.WAIVED),
            key=lambda r: (r.check.id, r.resource),
        )

    def waivers_in(self, state: WaiverState) -> list[WaiverStatus]:
        return [w for w in self.waivers if w.state is state]

    @property
    def target_label(self) -> str:
        t = self.target
        if not t:
            return "unknown target"
        name = t.get("environment", "?")
        kind = {
            EMULATOR: "LOCAL EMULATOR, not a real account",
            CUSTOM_ENDPOINT: "custom endpoint, not AWS itself",
            AWS: AWS,
        }.get(target_kind(t) or "", "kind of target unknown")
        return f"{name} ({kind})"

    @property
    def evidence_record(self) -> dict[str, Any]:
        """The evidence with every documented key (unknown ones None)."""
        return dict(self.evidence) if self.evidence else gather({}, self.target)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "complete": True,
            "run_id": self.run_id,
            "verdict": self.decision.verdict.key,
            "verdict_label": self.decision.verdict.label,
            "exit_code": self.decision.exit_code,
            "phase": self.phase,
            "environment": self.target.get("environment"),
            "account": self.target.get("account"),
            "regions": list(self.target.get("regions", [])),
            "endpoint": self.target.get("endpoint"),
            "emulated": bool(self.target.get("emulated", False)),
            "replayed_from": self.target.get("replayed_from"),
            "started_at": self.started.isoformat(),
            "finished_at": self.finished.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "reasons": list(self.decision.reasons),
            "problems": list(self.problems),
            "notes": list(self.notes),
            "counts": self.counts(),
            "counts_by_severity": self.counts_by("severity"),
            "counts_by_category": self.counts_by("category"),
            "partial": self.partial,
            "coverage": self.coverage,
            "results": [r.to_json() for r in self.results],
            "waivers": [w.to_json(self.today) for w in self.waivers],
            "not_applicable": [e.to_json() for e in self.not_applicable],
            "sections": [{"title": s.get("title", "")} for s in self.sections],
            "files": dict(self.files),
            "evidence": self.evidence_record,
        }


def placeholder(run_id: str, started: dt.datetime, phase: str) -> dict[str, Any]:
    """What verdict.json says until the run replaces it: NO-GO."""
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": False,
        "run_id": run_id,
        "verdict": "NO_GO",
        "verdict_label": "NO-GO",
        "exit_code": 2,
        "phase": phase,
        "started_at": started.isoformat(),
        "reasons": ["the run did not finish: this file was written before it started"],
        "results": [],
    }
