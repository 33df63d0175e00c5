"""One timeline for the whole go-live: each stage against the seed's time plan.

The seed's plan: credentials 2 min + quick health 2 (preflight 4), audit 5, four deploy
phases of 15 each, final checks 5: about 75 minutes, 90 with the buffer; a rollback
takes about 5. Printed in the terminal and written as timeline.json and a
self-contained timeline.html that links each stage's readiness.html.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from deploy_steps.golive.resume import ORDER, RunState, StageRecord
from reports.files import write_atomic, write_json

PLAN_MINUTES: dict[str, float] = {
    "preflight": 4,  # credentials 2 + quick health check 2
    "audit": 5,
    "decision": 0,
    "deploy": 60,  # phases 1-4, 15 each
    "validations": 5,  # final checks
    "rollback": 5,
}
PLAN_TOTAL_MINUTES = 75
PLAN_BUFFER_MINUTES = 90
TITLES = {
    "preflight": "Preflight: credentials and quick health check",
    "audit": "GO/NO-GO audit",
    "decision": "Decision: audit result, accept risks?",
    "deploy": "Deploy: phases 1-4",
    "validations": "Validations: final checks",
    "rollback": "Rollback",
    "monitoring": "Monitoring",
}


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def plan_of(name: str, state: RunState) -> float | None:
    if name == "monitoring":
        value = state.options.get("monitor_minutes")
        return float(value) if value else None
    return PLAN_MINUTES.get(name)


def against_plan(record: StageRecord, plan: float | None) -> str:
    if plan is None or record.status not in ("done", "reused"):
        return ""
    if plan == 0:
        return "-"
    if record.duration_s <= plan * 60:
        return f"within {plan:g} min"
    return f"OVER {plan:g} min by {_minutes(record.duration_s - plan * 60)}"


def _report(record: StageRecord) -> str:
    if not record.report_dir:
        return ""
    if record.name == "decision":
        return f"{record.report_dir}/decision.md"
    return f"{record.report_dir}/readiness.html"


def rows(state: RunState) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in ORDER:
        record = state.stages.get(name)
        if record is None:
            continue
        plan = plan_of(name, state)
        out.append(
            {
                "stage": name,
                "title": TITLES[name],
                "status": record.status,
                "started_at": record.started_at,
                "finished_at": record.finished_at,
                "duration_s": round(record.duration_s, 3),
                "plan_minutes": plan,
                "against_plan": against_plan(record, plan),
                "outcome": record.outcome,
                "detail": record.detail,
                "exit_code": record.exit_code,
                "report": _report(record),
                "reused_from": record.reused_from,
                "parts": [{**part, "against_plan": _part_vs_plan(part)} for part in record.parts],
            }
        )
    return out


def _short(name: str) -> str:
    """'Phase 1: Infrastructure' -> 'P1 Infrastructure' (fits the terminal column)."""
    if name.startswith("Phase ") and ":" in name:
        number, _, title = name.removeprefix("Phase ").partition(":")
        name = f"P{number.strip()} {title.strip()}"
    return name[:21]


def _part_vs_plan(part: dict[str, Any]) -> str:
    plan = float(part.get("plan_minutes") or 0)
    took = float(part.get("duration_s") or 0)
    if plan <= 0:
        return ""
    if took <= plan * 60:
        return f"within {plan:g} min"
    return f"OVER {plan:g} min by {_minutes(took - plan * 60)}"


def total_seconds(state: RunState) -> float:
    return sum(r.duration_s for r in state.stages.values() if r.name != "monitoring")


def terminal(state: RunState) -> str:
    lines = [
        f"GO-LIVE TIMELINE  {state.environment} · {state.stamp}",
        f"{'stage':<12} {'start (UTC)':<10} {'took':>9}  {'plan':>7}  {'vs plan':<22} outcome",
    ]
    for row in rows(state):
        start = row["started_at"][11:19] if row["started_at"] else "-"
        plan = row["plan_minutes"]
        plan_text = "-" if plan is None else f"{plan:g} min"
        took = _minutes(row["duration_s"]) if row["status"] in ("done", "reused") else "-"
        outcome = row["outcome"] or row["status"]
        if row["status"] == "reused":
            outcome += f" (reused from {row['reused_from']})"
        lines.append(
            f"{row['stage']:<12} {start:<10} {took:>9}  {plan_text:>7}  "
            f"{row['against_plan']:<22} {outcome}"
        )
        for part in row["parts"]:
            part_plan = f"{part['plan_minutes']:g} min"
            lines.append(
                f"  {_short(part['name']):<21} {_minutes(part['duration_s']):>9}  "
                f"{part_plan:>7}  {part['against_plan']:<22} {part['outcome']}"
            )
    total = total_seconds(state)
    verdict = "within" if total <= PLAN_TOTAL_MINUTES * 60 else "OVER"
    lines.append(
        f"{'total':<12} {'':<10} {_minutes(total):>9}  {PLAN_TOTAL_MINUTES:>3} min  "
        f"{verdict} the plan ({PLAN_TOTAL_MINUTES}-{PLAN_BUFFER_MINUTES} min with buffer)"
    )
    return "\n".join(lines)


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}
h1{font-size:20px;margin:0 0 .2em} .sub{color:#555;margin-bottom:1.2em}
table{border-collapse:collapse;width:100%} th,td{padding:.45em .6em;text-align:left;
border-bottom:1px solid #ddd;vertical-align:top} th{background:#f4f4f6}
.bar{height:10px;background:#4a7bd0;border-radius:3px;min-width:2px}
.over{color:#b00020;font-weight:600} .ok{color:#11703a}
.r0{background:#e8f6ee} .r1{background:#fff6dd} .r2{background:#fde8ea}
.badge{display:inline-block;padding:.2em .6em;border-radius:4px;font-weight:700}
"""


def html_page(state: RunState) -> str:
    data = rows(state)
    longest = max([r["duration_s"] for r in data] + [1.0])
    body: list[str] = []
    for row in data:
        code = row["exit_code"]
        cls = f"r{code}" if code in (0, 1, 2) else ""
        report = f'<a href="{html.escape(row["report"])}">report</a>' if row["report"] else ""
        vs = row["against_plan"]
        vs_cls = "over" if vs.startswith("OVER") else "ok"
        width = 100 * row["duration_s"] / longest
        plan = row["plan_minutes"]
        plan_text = "-" if plan is None else f"{plan:g} min"
        body.append(
            f'<tr class="{cls}"><td><b>{html.escape(row["stage"])}</b><br>'
            f"<small>{html.escape(row['title'])}</small></td>"
            f"<td>{html.escape(row['started_at'][:19].replace('T', ' '))}</td>"
            f"<td>{html.escape(row['finished_at'][:19].replace('T', ' '))}</td>"
            f"<td>{_minutes(row['duration_s'])}"
            f'<div class="bar" style="width:{width:.1f}%"></div></td>'
            f"<td>{plan_text}</td>"
            f'<td class="{vs_cls}">{html.escape(vs)}</td>'
            f"<td>{html.escape(row['outcome'] or row['status'])}"
            f"{' (reused)' if row['status'] == 'reused' else ''}"
            f"<br><small>{html.escape(row['detail'])}</small></td><td>{report}</td></tr>"
        )
        for part in row["parts"]:
            body.append(
                f"<tr><td>&nbsp;&nbsp;{html.escape(part['name'])}</td>"
                f"<td>{html.escape(part['started_at'][:19].replace('T', ' '))}</td><td></td>"
                f"<td>{_minutes(part['duration_s'])}</td><td>{part['plan_minutes']:g} min</td>"
                f"<td>{html.escape(part['against_plan'])}</td>"
                f"<td>{html.escape(part['outcome'])}</td><td></td></tr>"
            )
    result = state.result or "running"
    code = state.exit_code
    badge = {0: "r0", 1: "r1", 2: "r2"}.get(code if code is not None else -1, "")
    incident = (
        f'<p>Incident record: <a href="{html.escape(state.incident)}">'
        f"{html.escape(state.incident)}</a></p>"
        if state.incident
        else ""
    )
    total = total_seconds(state)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Go-live {html.escape(state.environment)} {html.escape(state.stamp)}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<h1>Go-live: {html.escape(state.environment)}</h1>"
        f'<div class="sub">{html.escape(state.stamp)} · '
        f"{'LOCAL EMULATOR, not a real account' if state.emulated else 'real account'} · "
        f'<span class="badge {badge}">{html.escape(result)}'
        f"{'' if code is None else f' (exit {code})'}</span></div>"
        f"{incident}"
        "<table><tr><th>Stage</th><th>Start (UTC)</th><th>End (UTC)</th><th>Took</th>"
        "<th>Plan</th><th>Against plan</th><th>Outcome</th><th>Report</th></tr>"
        + "".join(body)
        + f"<tr><th>Total</th><td></td><td></td><td>{_minutes(total)}</td>"
        f"<td>{PLAN_TOTAL_MINUTES} min</td><td>plan {PLAN_TOTAL_MINUTES}-"
        f"{PLAN_BUFFER_MINUTES} min with buffer</td><td></td><td></td></tr></table>"
        f"<p><small>Written {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} by "
        "readiness go-live. Links are relative to this file.</small></p></body></html>\n"
    )


def write(state: RunState, run_dir: Path) -> None:
    write_json(
        run_dir / "timeline.json",
        {
            "environment": state.environment,
            "stamp": state.stamp,
            "emulated": state.emulated,
            "result": state.result,
            "exit_code": state.exit_code,
            "incident": state.incident,
            "total_s": round(total_seconds(state), 3),
            "plan_total_minutes": PLAN_TOTAL_MINUTES,
            "plan_buffer_minutes": PLAN_BUFFER_MINUTES,
            "stages": rows(state),
        },
    )
    write_atomic(run_dir / "timeline.html", html_page(state))
