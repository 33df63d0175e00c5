"""The readiness summary placed at the top of pytest-html's `readiness.html`.

Everything is escaped here; sections from other plugins bring their own HTML (already
escaped by them). No script and no network: the page stays readable offline.
"""

from __future__ import annotations

from html import escape

from reports.evidence import CUSTOM_ENDPOINT, facts, replay_label
from reports.outcomes import Outcome, Result, Severity
from reports.summary import RunSummary
from reports.verdict import Verdict
from reports.waivers import WaiverState

_BANNER = {
    Verdict.GO: ("#1e7e34", "#e8f5e9"),
    Verdict.CONDITIONAL: ("#b26a00", "#fff4e0"),
    Verdict.NO_GO: ("#b00020", "#fdecea"),
}
STYLE = """
<style>
.rd-banner{border-radius:6px;padding:14px 18px;margin:8px 0 14px;border:2px solid}
.rd-banner h1{margin:0;font-size:26px;letter-spacing:.5px}
.rd-banner p{margin:4px 0 0}
.rd-local{background:#fff4e0;border:1px dashed #b26a00;padding:6px 10px;margin:6px 0;
  font-weight:bold}
.rd-replay{background:#fdecea;border:2px dashed #b00020;color:#b00020;padding:8px 12px;
  margin:6px 0;font-weight:bold;font-size:16px}
.rd table.rd-evidence{margin:4px 0 10px}
.rd table.rd-evidence th{text-align:right;font-weight:normal;color:#555}
.rd table{border-collapse:collapse;margin:6px 0 14px;font-size:13px}
.rd th,.rd td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.rd th{background:#f3f3f3}
.rd .o-failed,.rd .o-error{color:#b00020;font-weight:bold}
.rd .o-not-evaluated{color:#b26a00;font-weight:bold}
.rd .o-waived{color:#555}
.rd .o-passed{color:#1e7e34}
.rd h2{font-size:17px;margin:14px 0 4px}
.rd .sev-critical{color:#b00020;font-weight:bold}
.rd .sev-warning{color:#b26a00}
</style>
"""


def _e(value: object) -> str:
    return escape(str(value))


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _outcome(result: Result) -> str:
    return f'<span class="o-{result.outcome.value}">{_e(result.outcome_label)}</span>'


def _severity(severity: Severity) -> str:
    return f'<span class="sev-{severity.value}">{_e(severity.value)}</span>'


def render(summary: RunSummary) -> str:
    verdict = summary.decision.verdict
    fg, bg = _BANNER[verdict]
    t = summary.target
    parts = [STYLE, '<div class="rd">']
    parts.append(
        f'<div class="rd-banner" style="color:{fg};background:{bg};border-color:{fg}">'
        f"<h1>{_e(verdict.label)} &nbsp;·&nbsp; exit {verdict.value}</h1>"
        f"<p>Phase <b>{_e(summary.phase)}</b> on <b>{_e(summary.target_label)}</b>, "
        f"account <b>{_e(t.get('account', '?'))}</b>, regions "
        f"<b>{_e(', '.join(t.get('regions', [])) or '?')}</b>"
        + (f", endpoint <code>{_e(t['endpoint'])}</code>" if t.get("endpoint") else "")
        + f"</p><p>Started {summary.started:%Y-%m-%d %H:%M:%S} UTC, "
        f"ran {summary.duration_s:.1f} s · run id {_e(summary.run_id)}</p></div>"
    )
    evidence = summary.evidence_record
    replay = replay_label(evidence)
    if replay is not None:
        parts.append(
            f'<div class="rd-replay">{_e(replay)}: not a live reading of the account.</div>'
        )
    if summary.partial:
        parts.append(f'<div class="rd-local">{_e(summary.coverage_line)}</div>')
    if t.get("emulated"):
        parts.append(
            '<div class="rd-local">LOCAL EMULATOR RUN: moto on loopback with the seed '
            f"{_e(t.get('seed') or '?')}. This report says nothing about a real AWS account."
            "</div>"
        )
    elif evidence.get("target_kind") == CUSTOM_ENDPOINT:
        parts.append(
            f'<div class="rd-local">CUSTOM ENDPOINT RUN: {_e(t.get("endpoint") or "?")} is '
            "not AWS itself. This report says nothing about an AWS account.</div>"
        )
    facts_rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts(evidence))
    parts.append(
        f'<table class="rd-evidence"><caption>Evidence</caption><tbody>{facts_rows}</tbody></table>'
    )
    if summary.problems:
        parts.append("<h2>Run problems (each one alone means NO-GO)</h2><ul>")
        parts += [f"<li class='o-error'>{_e(p)}</li>" for p in summary.problems]
        parts.append("</ul>")
    columns = [o.value for o in Outcome]
    for attribute, title in (("severity", "By severity"), ("category", "By category")):
        rows = [
            [_e(key), *(str(c[col]) for col in columns), str(c["total"])]
            for key, c in summary.counts_by(attribute).items()
        ]
        if rows:
            parts.append(f"<h2>{title}</h2>" + _table(["", *columns, "total"], rows))
    attention = summary.attention()
    if attention:
        parts.append(f"<h2>Needs attention ({len(attention)})</h2>")
        parts.append(
            _table(
                ["Severity", "Check", "Resource", "Outcome", "Message", "Remediation"],
                [
                    [
                        _severity(r.severity),
                        f"<code>{_e(r.check.id)}</code><br>{_e(r.check.title)}",
                        _e(r.resource or "(account)"),
                        _outcome(r),
                        _e(r.message),
                        _e(r.check.remediation),
                    ]
                    for r in attention
                ],
            )
        )
    accepted = summary.accepted()
    if accepted:
        parts.append(f"<h2>Accepted risks ({len(accepted)})</h2>")
        parts.append(
            _table(
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
                        f"<code>{_e(r.check.id)}</code>",
                        _e(r.resource or "(account)"),
                        _severity(r.severity),
                        _outcome(r),
                        _e(r.waiver.owner if r.waiver else ""),
                        _e(r.waiver.expires if r.waiver else ""),
                        _e(r.waiver.days_left if r.waiver else ""),
                        _e(r.waiver.reason if r.waiver else ""),
                        _e(r.message),
                    ]
                    for r in accepted
                ],
            )
        )
    for state, title in (
        (WaiverState.EXPIRED, "Expired waivers (ignored)"),
        (WaiverState.STALE, "Stale waivers (cover no failure)"),
    ):
        rows = [
            [
                f"<code>{_e(w.waiver.check)}</code>",
                _e(w.waiver.resource or "(any)"),
                _e(w.waiver.owner),
                _e(w.waiver.expires_text),
                _e(w.waiver.reason),
            ]
            for w in summary.waivers_in(state)
        ]
        if rows:
            parts.append(f"<h2>{title}</h2>")
            parts.append(_table(["Check", "Resource", "Owner", "Expires", "Reason"], rows))
    if summary.not_applicable:
        parts.append(f"<h2>Not applicable here ({len(summary.not_applicable)})</h2>")
        parts.append(
            _table(
                ["Check", "Reason", "Owner", "Review by", "State"],
                [
                    [
                        f"<code>{_e(e.check)}</code>",
                        _e(e.reason),
                        _e(e.owner),
                        _e(e.review),
                        f'<span class="o-not-evaluated">{_e(e.status)}</span>'
                        if e.overdue
                        else _e(e.status),
                    ]
                    for e in summary.not_applicable
                ],
            )
        )
    for section in summary.sections:
        body = section.get("html") or (
            f"<pre>{_e(section['text'])}</pre>" if section.get("text") else ""
        )
        if body:
            parts.append(f"<h2>{_e(section.get('title', ''))}</h2>{body}")
    if summary.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in summary.notes))
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def page(summary: RunSummary) -> str:
    """readiness.html on its own, when pytest-html does not write it (disabled, or told
    to write elsewhere): the same summary, as a whole self-contained page."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Readiness report</title></head><body>"
        f"{render(summary)}</body></html>\n"
    )
