"""The verdict block printed last in the terminal."""

from __future__ import annotations

import textwrap

from reports.evidence import CUSTOM_ENDPOINT, one_line, replay_label, source_text
from reports.outcomes import Outcome, Severity
from reports.summary import RunSummary
from reports.verdict import Verdict
from reports.waivers import WaiverState

Line = tuple[str, dict[str, bool]]
_COLOUR = {Verdict.GO: "green", Verdict.CONDITIONAL: "yellow", Verdict.NO_GO: "red"}
_SHOWN = 25


def render(summary: RunSummary, width: int = 100) -> list[Line]:
    verdict = summary.decision.verdict
    colour = {_COLOUR[verdict]: True, "bold": True}
    title = f" READINESS VERDICT: {verdict.label} (exit {verdict.value}) "
    lines: list[Line] = [(title.center(min(width, 100), "="), colour)]
    t = summary.target
    regions = ", ".join(t.get("regions", [])) or "?"
    endpoint = f" · endpoint {t['endpoint']}" if t.get("endpoint") else ""
    lines.append(
        (
            f"target    {summary.target_label} · account {t.get('account', '?')} · "
            f"{regions}{endpoint}",
            {},
        )
    )
    evidence = summary.evidence_record
    if t.get("emulated"):
        lines.append(
            (
                "          this is the embedded local emulator: it says nothing about "
                "a real account",
                {"yellow": True},
            )
        )
    elif evidence.get("target_kind") == CUSTOM_ENDPOINT:
        lines.append(
            (
                "          this is a custom endpoint, not AWS itself: it says nothing about "
                "an AWS account",
                {"yellow": True},
            )
        )
    replay = replay_label(evidence) is not None
    lines.append((f"data      {source_text(evidence)}", {"yellow": replay, "bold": replay}))
    lines.append((f"evidence  {one_line(evidence, with_source=False)}", {}))
    counts = summary.counts()
    parts = [f"{counts[o.value]} {o.value}" for o in Outcome if counts[o.value]]
    lines.append(
        (
            f"checks    {counts['total']} results in phase {summary.phase}: "
            f"{' · '.join(parts) or 'none'} · {summary.duration_s:.1f} s",
            {},
        )
    )
    if summary.partial:
        lines.append((f"coverage  {summary.coverage_line}", {"red": True, "bold": True}))
    for severity, c in summary.counts_by("severity").items():
        ok = c["passed"] + c["not-applicable"]
        lines.append((f"          {severity:<9} {ok}/{c['total']} ok", {}))
    for problem in summary.problems:
        lines.append((f"problem   {problem}", {"red": True}))
    attention = summary.attention()
    if attention:
        lines.append(("needs attention", {"bold": True}))
    for r in attention[:_SHOWN]:
        sev_colour = {"red": True} if r.severity is Severity.CRITICAL else {"yellow": True}
        where = f" [{r.resource}]" if r.resource else ""
        lines.append(
            (
                f"  {r.severity.value.upper():<8} {r.outcome.value:<13} {r.check.id}{where}",
                sev_colour,
            )
        )
        if r.message:
            for chunk in textwrap.wrap(r.message.splitlines()[0], width - 8)[:2]:
                lines.append((f"      {chunk}", {}))
        if r.check.remediation and r.outcome is Outcome.FAILED:
            fix = textwrap.shorten(r.check.remediation, width - 10)
            lines.append((f"      fix: {fix}", {"cyan": True}))
    if len(attention) > _SHOWN:
        lines.append((f"  ... and {len(attention) - _SHOWN} more in the report", {}))
    accepted = summary.accepted()
    if accepted:
        lines.append(("accepted risks (waived)", {"bold": True}))
    for r in accepted[:_SHOWN]:
        w = r.waiver
        who = f"{w.owner}, {w.days_left} days left" if w else ""
        where = f" [{r.resource}]" if r.resource else ""
        lines.append((f"  {r.severity.value:<8} {r.check.id}{where} ({who})", {}))
        if r.outcome_label != Outcome.WAIVED.value:  # unreadable data, accepted
            why = textwrap.shorten(r.message or "no reason given", width - 32)
            lines.append((f"      {r.outcome_label}: {why}", {"yellow": True}))
    for state in (WaiverState.EXPIRED, WaiverState.STALE):
        for status in summary.waivers_in(state):
            row = status.waiver
            lines.append(
                (
                    f"waiver    {state.value}: {row.check} [{row.resource or '*'}] "
                    f"owner {row.owner}, expires {row.expires_text}",
                    {"yellow": True},
                )
            )
    if summary.not_applicable:
        lines.append(("not applicable here (readiness.toml)", {"bold": True}))
    for entry in summary.not_applicable:
        mark = {"yellow": True} if entry.overdue else {}
        lines.append(
            (
                f"  {entry.check}: {entry.reason} (owner {entry.owner}, review by "
                f"{entry.review})" + (f" - {entry.status}" if entry.overdue else ""),
                mark,
            )
        )
    for note in summary.notes:
        lines.append((f"note      {note}", {}))
    if summary.files:
        lines.append(("reports   " + " · ".join(summary.files.values()), {}))
    lines.append(("=" * min(width, 100), colour))
    return lines
