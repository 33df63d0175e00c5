"""The reports a gate writes itself, when it cannot take a run's own: always NO-GO.

`readiness gate` replaces every output of the previous run before pytest starts and,
when it does not trust the run (no verdict plugin, a verdict of another run or phase, a
partial run nobody accepted, a crash), writes these in their place. CI publishes
whatever is in the report folder: it must never find the previous run's GO there.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, final

from reports.files import write_atomic, write_json
from reports.summary import SCHEMA_VERSION

WRITTEN_BY = "readiness gate"
# Every file a gated run publishes; the gate removes them all before the run starts.
OUTPUTS = (
    "verdict.json",
    "summary.md",
    "readiness.html",
    "junit.xml",
    "inventory.json",
    "api-calls.json",
    "iam-policy.json",
)


@final
@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a gate says NO-GO on its own, and what the reader should do next."""

    run_id: str
    phase: str
    reason: str
    process_code: int | None
    # What the run's own verdict.json said, when there was one (shown, never trusted).
    claimed: dict[str, Any] | None = None
    # Commands that recover from this (a rollback of an interrupted deploy).
    next_steps: list[str] = field(default_factory=list)
    # False for the placeholder the gate writes before the run: not a finished verdict.
    final: bool = True
    finished: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def verdict_json(refusal: Refusal) -> dict[str, Any]:
    claimed = refusal.claimed or {}
    return {
        "schema_version": SCHEMA_VERSION,
        "complete": refusal.final,
        "written_by": WRITTEN_BY,
        "trusted": False,
        "run_id": refusal.run_id,
        "verdict": "NO_GO",
        "verdict_label": "NO-GO",
        "exit_code": 2,
        "phase": refusal.phase,
        "finished_at": refusal.finished.isoformat(),
        "pytest_exit_code": refusal.process_code,
        "reasons": [f"run problem: the gate did not trust the run: {refusal.reason}"],
        "problems": [refusal.reason],
        "next_steps": list(refusal.next_steps),
        "claimed": {
            key: claimed.get(key)
            for key in ("run_id", "verdict", "exit_code", "phase", "partial", "complete")
            if key in claimed
        },
        "partial": True,
        "coverage": None,
        "results": [],
    }


def markdown(refusal: Refusal) -> str:
    lines = [
        "## 🔴 Readiness: NO-GO (exit 2)",
        "",
        f"**Phase:** `{refusal.phase}` · run `{refusal.run_id}` · "
        f"{refusal.finished:%Y-%m-%d %H:%M} UTC",
        "",
        f"- ❌ **The gate did not trust this run:** {refusal.reason}",
    ]
    if refusal.claimed and "verdict" in refusal.claimed:
        lines.append(
            f"- The run's own verdict.json said {refusal.claimed.get('verdict')} "
            f"(exit {refusal.claimed.get('exit_code')}); it is not taken."
        )
    for step in refusal.next_steps:
        lines.append(f"- ➡️ **Next:** `{step}`")
    return "\n".join(lines) + "\n"


def html(refusal: Refusal) -> str:
    steps = "".join(f"<li>Next: <code>{escape(s)}</code></li>" for s in refusal.next_steps)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Readiness report</title><style>"
        "body{font-family:sans-serif;margin:24px}"
        ".b{color:#b00020;background:#fdecea;border:2px solid #b00020;border-radius:6px;"
        "padding:14px 18px}h1{margin:0}</style></head><body>"
        '<div class="b"><h1>NO-GO &nbsp;·&nbsp; exit 2</h1>'
        f"<p>Phase <b>{escape(refusal.phase)}</b>, run {escape(refusal.run_id)}, "
        f"{refusal.finished:%Y-%m-%d %H:%M:%S} UTC</p></div>"
        f"<p><b>The gate did not trust this run:</b> {escape(refusal.reason)}</p>"
        f"<ul>{steps}</ul></body></html>\n"
    )


def junit(refusal: Refusal) -> str:
    suites = ET.Element("testsuites", name="readiness")
    suite = ET.SubElement(
        suites, "testsuite", name=f"readiness.{refusal.phase}", tests="1", failures="0", errors="1"
    )
    case = ET.SubElement(suite, "testcase", classname="readiness.gate", name="gate")
    ET.SubElement(case, "error", type="untrusted-run", message=refusal.reason).text = refusal.reason
    ET.indent(suites)
    text = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{text}\n'


def clear(folder: Path, keep: frozenset[Path] = frozenset()) -> None:
    """Remove the previous run's outputs (never another file, never one in `keep`)."""
    for name in OUTPUTS:
        path = folder / name
        if path.resolve() not in keep:
            path.unlink(missing_ok=True)


def write(folder: Path, refusal: Refusal) -> None:
    """verdict.json last: whatever else fails, it says NO-GO."""
    write_atomic(folder / "summary.md", markdown(refusal))
    write_atomic(folder / "readiness.html", html(refusal))
    write_atomic(folder / "junit.xml", junit(refusal))
    write_json(folder / "verdict.json", verdict_json(refusal))
