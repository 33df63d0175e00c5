"""`summary.md`: the verdict for a CI step summary (GitHub's $GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

from reports.evidence import CUSTOM_ENDPOINT, facts, replay_label
from reports.outcomes import Outcome
from reports.summary import RunSummary
from reports.verdict import Verdict
from reports.waivers import WaiverState

_ICON = {Verdict.GO: "🟢", Verdict.CONDITIONAL: "🟠", Verdict.NO_GO: "🔴"}
_COLUMNS = [o.value for o in Outcome]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip() or "—"


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def render(summary: RunSummary) -> str:
    verdict = summary.decision.verdict
    t = summary.target
    out = [
        f"## {_ICON[verdict]} Readiness: {verdict.label} (exit {verdict.value})",
        "",
        f"**Target:** {_cell(summary.target_label)} · account `{t.get('account', '?')}` · "
        f"regions {', '.join(t.get('regions', [])) or '?'} · phase `{summary.phase}` · "
        f"{summary.duration_s:.1f} s · {summary.finished:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    evidence = summary.evidence_record
    replay = replay_label(evidence)
    if replay is not None:
        out += [f"> ⚠️ **{_cell(replay)}**: not a live reading of the account.", ""]
    if t.get("emulated"):
        out += ["> ⚠️ Local emulator run: this says nothing about a real AWS account.", ""]
    elif evidence.get("target_kind") == CUSTOM_ENDPOINT:
        out += [
            f"> ⚠️ Custom endpoint run ({_cell(t.get('endpoint') or '?')}): not AWS itself, "
            "this says nothing about an AWS account.",
            "",
        ]
    out += ["**Evidence**", ""]
    out += [f"- {label}: {_cell(value)}" for label, value in facts(evidence)] + [""]
    if summary.partial:
        out += [f"> ⚠️ **{_cell(summary.coverage_line)}**", ""]
    for problem in summary.problems:
        out.append(f"- ❌ **Run problem:** {_cell(problem)}")
    if summary.problems:
        out.append("")
    rows: list[list[object]] = []
    for key, counts in summary.counts_by("severity").items():
        rows.append([key, *(counts[c] for c in _COLUMNS), counts["total"]])
    for key, counts in summary.counts_by("category").items():
        rows.append([f"_{key}_", *(counts[c] for c in _COLUMNS), counts["total"]])
    out += _table(["", *_COLUMNS, "total"], rows) + [""]
    attention = summary.attention()
    if attention:
        out += ["### Needs attention", ""]
        out += _table(
            ["Severity", "Check", "Resource", "Outcome", "Message", "Remediation"],
            [
                [
                    r.severity.value,
                    f"`{r.check.id}` {r.check.title}",
                    r.resource or "(account)",
                    r.outcome.value,
                    r.message,
                    r.check.remediation,
                ]
                for r in attention
            ],
        ) + [""]
    accepted = summary.accepted()
    if accepted:
        out += ["### Accepted risks", ""]
        out += _table(
            [
                "Check",
                "Resource",
                "Severity",
                "Waived",
                "Owner",
                "Expires",
                "Days left",
                "Reason",
                "Message",
            ],
            [
                [
                    f"`{r.check.id}`",
                    r.resource or "(account)",
                    r.severity.value,
                    r.outcome_label,
                    r.waiver.owner if r.waiver else "",
                    r.waiver.expires if r.waiver else "",
                    r.waiver.days_left if r.waiver else "",
                    r.waiver.reason if r.waiver else "",
                    r.message,
                ]
                for r in accepted
            ],
        ) + [""]
    for state, title in (
        (WaiverState.EXPIRED, "Expired waivers (ignored)"),
        (WaiverState.STALE, "Stale waivers (cover no failure)"),
    ):
        rows = [
            [
                f"`{w.waiver.check}`",
                w.waiver.resource or "(any)",
                w.waiver.owner,
                w.waiver.expires_text,
            ]
            for w in summary.waivers_in(state)
        ]
        if rows:
            out += [f"### {title}", ""] + _table(["Check", "Resource", "Owner", "Expires"], rows)
            out.append("")
    if summary.not_applicable:
        out += ["### Not applicable here", ""]
        out += _table(
            ["Check", "Reason", "Owner", "Review by", "State"],
            [
                [f"`{e.check}`", e.reason, e.owner, e.review, e.status]
                for e in summary.not_applicable
            ],
        ) + [""]
    for section in summary.sections:
        body = section.get("markdown") or section.get("text")
        if body:
            out += [f"### {section.get('title', '')}", "", body, ""]
    if summary.notes:
        out += ["### Notes", ""] + [f"- {_cell(n)}" for n in summary.notes] + [""]
    if summary.files:
        out.append("Reports: " + " · ".join(f"`{p}`" for p in summary.files.values()))
    return "\n".join(out).rstrip() + "\n"
