"""The flowchart's second decision point: audit result 0 / 1 / 2, and "accept risks?".

Pure functions over the verdict.json files of the preflight and the audit, so every
branch can be tested without running anything:

- GO proceeds;
- CONDITIONAL GO proceeds only when every open risk is covered by a valid waiver, or
  when someone named accepts the open risks (`--accept-risks --accepted-by NAME`, or
  "y" at the prompt of an interactive terminal); the risks and who accepted them go
  into the record;
- NO-GO stops, with the failures and their remediation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, final

Outcome = Literal["proceed", "stop"]

# Outcomes that stand between a verdict and GO (an error is always NO-GO).
OPEN = ("failed", "error", "not-evaluated")


@final
@dataclass(frozen=True, slots=True)
class Finding:
    """One result that is not a plain pass: what failed, on what, and how to fix it."""

    stage: str
    check_id: str
    title: str
    severity: str
    outcome: str
    resource: str
    message: str
    remediation: str
    waiver_owner: str = ""
    waiver_expires: str = ""

    @classmethod
    def from_result(cls, stage: str, result: Mapping[str, Any]) -> Finding:
        waiver = result.get("waiver") or {}
        return cls(
            stage=stage,
            check_id=str(result.get("check_id", "(unknown)")),
            title=str(result.get("title", "")),
            severity=str(result.get("severity", "critical")),
            outcome=str(result.get("outcome", "error")),
            resource=str(result.get("resource", "")),
            message=str(result.get("message", "")),
            remediation=str(result.get("remediation", "")),
            waiver_owner=str(waiver.get("owner", "")) if isinstance(waiver, Mapping) else "",
            waiver_expires=str(waiver.get("expires", "")) if isinstance(waiver, Mapping) else "",
        )

    @property
    def label(self) -> str:
        where = f" [{self.resource}]" if self.resource else ""
        return f"{self.severity} {self.outcome}: {self.check_id}{where}"

    def to_json(self) -> dict[str, str]:
        return {
            "stage": self.stage,
            "check_id": self.check_id,
            "title": self.title,
            "severity": self.severity,
            "outcome": self.outcome,
            "resource": self.resource,
            "message": self.message,
            "remediation": self.remediation,
            "waiver_owner": self.waiver_owner,
            "waiver_expires": self.waiver_expires,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(**{k: str(data.get(k, "")) for k in cls.__slots__})


def findings(stage: str, verdict: Mapping[str, Any] | None) -> list[Finding]:
    """Every result of a stage that is not passed or not-applicable."""
    if verdict is None:
        return []
    results = verdict.get("results")
    if not isinstance(results, list):
        return []
    return [
        Finding.from_result(stage, r)
        for r in results
        if isinstance(r, Mapping) and r.get("outcome") not in ("passed", "not-applicable")
    ]


@final
@dataclass(frozen=True, slots=True)
class Acceptance:
    """Who accepted the open risks, and how."""

    by: str
    how: Literal["flag", "prompt"]


@final
@dataclass(frozen=True, slots=True)
class Decision:
    verdict: str  # "GO" | "CONDITIONAL GO" | "NO-GO"
    outcome: Outcome
    why: str
    blocking: tuple[Finding, ...] = ()
    """NO-GO: the results that stop the go-live (critical, errors)."""
    open_risks: tuple[Finding, ...] = ()
    """CONDITIONAL: warnings no valid waiver covers (need a named person's acceptance)."""
    waived: tuple[Finding, ...] = ()
    """Results a valid waiver covers (accepted by the waiver's owner)."""
    accepted: Acceptance | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def proceeds(self) -> bool:
        return self.outcome == "proceed"

    @property
    def with_risks(self) -> bool:
        """Proceeding on a CONDITIONAL GO: the go-live can exit 1 at best."""
        return self.proceeds and self.verdict != "GO"

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "outcome": self.outcome,
            "why": self.why,
            "blocking": [f.to_json() for f in self.blocking],
            "open_risks": [f.to_json() for f in self.open_risks],
            "waived": [f.to_json() for f in self.waived],
            "accepted": None
            if self.accepted is None
            else {"by": self.accepted.by, "how": self.accepted.how},
            "problems": list(self.problems),
        }


_LABELS = {0: "GO", 1: "CONDITIONAL GO", 2: "NO-GO"}


def _code(verdict: Mapping[str, Any] | None, trusted: bool) -> int:
    if verdict is None or not trusted:
        return 2
    code = verdict.get("exit_code")
    return code if code in (0, 1, 2) else 2


def decide(
    stages: Iterable[tuple[str, Mapping[str, Any] | None, bool, str]],
    accept_by: str | None = None,
    ask: Any = None,
) -> Decision:
    """Decide from `(stage, verdict.json, trusted, gate reason)` of preflight and audit.

    `accept_by`: the name given with `--accept-risks`. `ask(decision) -> str | None`:
    asks a person in a terminal and returns their name when they accept (or None).
    """
    worst = 0
    blocking: list[Finding] = []
    open_risks: list[Finding] = []
    waived: list[Finding] = []
    problems: list[str] = []
    for stage, verdict, trusted, reason in stages:
        code = _code(verdict, trusted)
        worst = max(worst, code)
        if not trusted:
            problems.append(f"{stage}: the gate did not trust the run: {reason}")
        if verdict is not None:
            problems += [f"{stage}: {p}" for p in verdict.get("problems", []) or []]
        for finding in findings(stage, verdict):
            if finding.outcome == "waived":
                waived.append(finding)
            elif finding.severity == "critical" or finding.outcome == "error":
                blocking.append(finding)
            else:
                open_risks.append(finding)
    verdict_label = _LABELS[worst]
    if worst == 2:
        why = "NO-GO: stop, fix the failures below, re-run the audit"
        if not blocking and not problems:
            problems.append("the run was NO-GO without a failing check (see its report)")
        return Decision(
            verdict_label,
            "stop",
            why,
            tuple(blocking),
            tuple(open_risks),
            tuple(waived),
            problems=tuple(problems),
        )
    if worst == 0:
        return Decision(verdict_label, "proceed", "GO: proceed", waived=tuple(waived))
    # CONDITIONAL GO.
    risks, covered = tuple(open_risks), tuple(waived)
    if not open_risks:
        return Decision(
            verdict_label,
            "proceed",
            "CONDITIONAL GO: every open risk is covered by a valid waiver",
            open_risks=risks,
            waived=covered,
        )
    if accept_by:
        return Decision(
            verdict_label,
            "proceed",
            f"CONDITIONAL GO: {len(open_risks)} risk(s) accepted by {accept_by}",
            accepted=Acceptance(accept_by, "flag"),
            open_risks=risks,
            waived=covered,
        )
    pending = Decision(
        verdict_label,
        "stop",
        f"CONDITIONAL GO: {len(open_risks)} risk(s) not covered by a waiver and not "
        "accepted (give --accept-risks --accepted-by NAME, or add waivers)",
        open_risks=risks,
        waived=covered,
    )
    if ask is not None:
        who = ask(pending)
        if who:
            return Decision(
                verdict_label,
                "proceed",
                f"CONDITIONAL GO: {len(open_risks)} risk(s) accepted at the prompt by {who}",
                accepted=Acceptance(str(who), "prompt"),
                open_risks=risks,
                waived=covered,
            )
    return pending


def describe(decision: Decision, limit: int = 20) -> list[str]:
    """Terminal lines: the decision, then what stops it or what is accepted."""
    lines = [f"decision  {decision.why}"]
    for problem in decision.problems:
        lines.append(f"  problem: {problem}")
    for title, items in (
        ("blocking", decision.blocking),
        ("open risk", decision.open_risks),
        ("waived", decision.waived),
    ):
        for finding in items[:limit]:
            lines.append(f"  {title}: {finding.label}")
            if finding.message:
                lines.append(f"      {finding.message.splitlines()[0][:200]}")
            if finding.outcome == "waived":
                lines.append(
                    f"      waiver: {finding.waiver_owner}, expires {finding.waiver_expires}"
                )
            elif finding.remediation:
                lines.append(f"      fix: {finding.remediation[:200]}")
        if len(items) > limit:
            lines.append(f"  ... and {len(items) - limit} more {title} (see the stage report)")
    if decision.accepted is not None:
        lines.append(f"  accepted by {decision.accepted.by} ({decision.accepted.how})")
    return lines
