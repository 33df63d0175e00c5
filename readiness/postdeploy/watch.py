"""The monitoring engine: post-deploy rounds under the rollback decision tree.

Each round is one complete postdeploy gate run (its own pytest session, its own report
in `round-NNN/`), judged by the same verdict rules as any run, then by the decision
table of `readiness.postdeploy.decide` (critical failed → rollback; warning → notify,
rollback prepared, rollback when it persists; an unreadable critical → notify, rollback
prepared, treated as failed when it persists). `readiness watch` and `readiness go-live
--monitor` both run this loop; they differ only in how a round runs, how the rollback
runs and where the incident record goes, which they hand in.

A round the operator interrupted is never acted on. `watch.json`, `watch.md` and
`watch.html` in the report folder accumulate every round and are rewritten after each.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Protocol, final

from readiness.files import make_dirs, write_atomic, write_json
from readiness.notify import Delivery, Message, Notifier, failures_of
from readiness.postdeploy.decide import (
    ROWS,
    Action,
    History,
    Limits,
    RoundSignals,
    Ruling,
    decide,
)

OUTPUT_TAIL = 2000
NO_GO = 2
INTERRUPTED_BY_OPERATOR = "interrupted by the operator (Ctrl-C)"


@final
@dataclass(frozen=True, slots=True)
class RoundResult:
    """What one gate run said: its exit code and verdict.json (None if unreadable)."""

    exit_code: int
    verdict: dict[str, Any] | None
    reason: str  # why the exit code was not trusted; "" when it was
    report_dir: Path


class RoundRunner(Protocol):
    def __call__(self, number: int, report_dir: Path) -> RoundResult: ...


def ruling_for(result: RoundResult, before: History, limits: Limits) -> Ruling:
    """The decision table applied to one round's result."""
    return decide(RoundSignals.of(result.exit_code, result.verdict, result.reason), before, limits)


@final
@dataclass(frozen=True, slots=True)
class WatchOptions:
    environment: str
    report_dir: Path
    interval_s: float
    for_s: float
    rollback_command: tuple[str, ...]
    """The argument list the default rollback runs, final (nothing is filled in here)."""
    max_rounds: int | None = None
    rollback_timeout_s: float = 900.0
    limits: Limits = field(default_factory=Limits)

    @property
    def rounds(self) -> int:
        bounded = int(self.for_s // self.interval_s) + 1
        return min(bounded, self.max_rounds) if self.max_rounds else bounded


@final
@dataclass(slots=True)
class RoundRecord:
    number: int
    started: str
    finished: str = ""
    exit_code: int = NO_GO
    verdict: str = "NO-GO"
    untrusted: str = ""
    action: Action = Action.PREPARED
    rule: str = ""
    headline: str = ""
    summary: str = ""
    failures: list[str] = field(default_factory=list)
    report: str = ""
    rollback: dict[str, Any] | None = None
    incident: str = ""
    notifications: list[Delivery] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    """verdict.json's results of the round (for the incident record; not in watch.json)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.number,
            "started_at": self.started,
            "finished_at": self.finished,
            "exit_code": self.exit_code,
            "verdict": self.verdict,
            "untrusted": self.untrusted,
            "action": self.action.value,
            "rule": self.rule,
            "headline": self.headline,
            "summary": self.summary,
            "failures": list(self.failures),
            "report": self.report,
            "rollback": self.rollback,
            "incident": self.incident,
            "notifications": [d.to_json() for d in self.notifications],
        }


class RollbackAction(Protocol):
    """Runs the rollback; returns at least {"command": [...], "exit_code": int | None}."""

    def __call__(self, record: RoundRecord) -> dict[str, Any]: ...


class IncidentWriter(Protocol):
    """Writes the incident record of a rollback round; returns its path."""

    def __call__(self, record: RoundRecord) -> str: ...


@final
@dataclass(frozen=True, slots=True)
class CommandRollback:
    """The rollback as a child process: an argument list, no shell."""

    argv: tuple[str, ...]
    timeout_s: float = 900.0

    def __call__(self, record: RoundRecord) -> dict[str, Any]:
        argv = list(self.argv)
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"command": argv, "exit_code": None, "error": f"{type(exc).__name__}: {exc}"}
        output = (done.stdout + done.stderr)[-OUTPUT_TAIL:]
        return {"command": argv, "exit_code": done.returncode, "output": output}


def rollback_cause(record: RoundRecord) -> str:
    """'a critical failure', 'an unresolved warning', ...: what a rollback round was for."""
    row = ROWS.get(record.rule)
    return row.cause if row is not None and row.cause else "rollback decision"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def progress_line(record: RoundRecord, total: int, next_at: dt.datetime | None) -> str:
    """'round 3 of 24 · next at 14:35 UTC · last decision: continue (all clear)'."""
    parts = [f"round {record.number} of {total}"]
    if next_at is not None:
        parts.append(f"next at {next_at.strftime('%H:%M:%S' if next_at.second else '%H:%M')} UTC")
    parts.append(f"last decision: {record.action.value} ({record.summary or record.headline})")
    return " · ".join(parts)


@final
class Watch:
    """Bounded rounds; Ctrl-C ends the current round or pause and writes the report."""

    def __init__(
        self,
        options: WatchOptions,
        run_round: RoundRunner,
        notifier: Notifier | None,
        on_round: Callable[[RoundRecord], None] | None = None,
        *,
        rollback: RollbackAction | None = None,
        incident: IncidentWriter | None = None,
        progress: Callable[[str], None] | None = None,
        rollback_label: str = "",
    ) -> None:
        self.options = options
        self.run_round = run_round
        self.notifier = notifier
        self.on_round = on_round
        self.rollback: RollbackAction = rollback or CommandRollback(
            options.rollback_command, options.rollback_timeout_s
        )
        self.incident = incident
        self.progress = progress
        self.rollback_label = rollback_label or " ".join(options.rollback_command)
        self.rounds: list[RoundRecord] = []
        self.history = History()
        self.state = Action.CONTINUE
        self.stopped_by = ""
        self.started = _now()
        self._stop = threading.Event()

    @property
    def interrupted(self) -> bool:
        return self.stopped_by == INTERRUPTED_BY_OPERATOR

    @property
    def rolled_back(self) -> RoundRecord | None:
        return next((r for r in self.rounds if r.action is Action.ROLLBACK), None)

    # -- the loop ---------------------------------------------------------------------

    def run(self) -> int:
        previous = signal.getsignal(signal.SIGINT)
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.signal(signal.SIGINT, self._interrupt)
        try:
            self._loop()
        except KeyboardInterrupt:
            # Ctrl-C between a round and the pause (while a round is written, say).
            self._stop.set()
            self.stopped_by = INTERRUPTED_BY_OPERATOR
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
            self.write()
        return self.exit_code

    def _interrupt(self, signum: int, frame: Any) -> None:
        self._stop.set()
        signal.default_int_handler(signum, frame)

    def _loop(self) -> None:
        total = self.options.rounds
        for number in range(1, total + 1):
            record = self._round(number)
            self.rounds.append(record)
            self.write()
            if self.on_round is not None:
                self.on_round(record)
            if record.action is Action.INTERRUPTED:
                self.stopped_by = INTERRUPTED_BY_OPERATOR
                return
            if record.action is Action.ROLLBACK:
                self.stopped_by = f"rolled back after {rollback_cause(record)}"
                return
            if number == total:
                self.stopped_by = f"watched {total} rounds"
                return
            if self.progress is not None:
                next_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.options.interval_s)
                self.progress(progress_line(record, total, next_at))
            try:
                if self._stop.wait(self.options.interval_s):
                    self.stopped_by = INTERRUPTED_BY_OPERATOR
                    return
            except KeyboardInterrupt:
                self.stopped_by = INTERRUPTED_BY_OPERATOR
                return

    def _round(self, number: int) -> RoundRecord:
        folder = self.options.report_dir / f"round-{number:03d}"
        record = RoundRecord(number=number, started=_now())
        try:
            result = self.run_round(number, folder)
        except KeyboardInterrupt:
            self._stop.set()
            result = RoundResult(NO_GO, None, "interrupted", folder)
        except Exception as exc:  # the round could not run: blind, never a pass
            result = RoundResult(
                NO_GO, None, f"the round failed: {type(exc).__name__}: {exc}", folder
            )
        record.finished = _now()
        record.exit_code = result.exit_code
        record.verdict = str((result.verdict or {}).get("verdict_label", "NO-GO"))
        record.untrusted = result.reason
        results = [r for r in (result.verdict or {}).get("results") or [] if isinstance(r, dict)]
        record.results = results
        record.failures = list(failures_of(results))
        if result.reason and not record.failures:
            record.failures = [f"the round gave no trusted verdict: {result.reason}"]
        record.report = str(folder / "readiness.html")
        if self._stop.is_set():
            record.action = Action.INTERRUPTED
            record.summary = "interrupted, not judged"
            return record
        ruling = ruling_for(result, self.history, self.options.limits)
        self.history = ruling.history
        record.action = ruling.action
        record.rule = ruling.row.id
        record.headline = ruling.headline
        record.summary = ruling.summary
        self._act(record, ruling)
        return record

    # -- the decision table's actions ---------------------------------------------------

    def _act(self, record: RoundRecord, ruling: Ruling) -> None:
        headline = f"round {record.number}: {ruling.headline}"
        if ruling.action is Action.ROLLBACK:
            try:
                record.rollback = self.rollback(record)
            except Exception as exc:  # the rollback could not start: say so, loudly
                record.rollback = {"command": [], "exit_code": None, "error": str(exc)}
            ok = record.rollback.get("exit_code") == 0
            headline += "; rollback ran" if ok else "; ROLLBACK FAILED: act by hand"
        elif ruling.action is Action.PREPARED:
            headline += f" (`{self.rollback_label}`)"
        if ruling.notify:
            self._notify(record, headline)
        if ruling.action is Action.ROLLBACK and self.incident is not None:
            try:
                record.incident = self.incident(record)
            except Exception as exc:  # reported in the round, never hides the rollback
                record.incident = f"(not written: {type(exc).__name__}: {exc})"
        self.state = ruling.action

    def _notify(self, record: RoundRecord, headline: str) -> None:
        if self.notifier is None:
            return
        message = Message(
            environment=self.options.environment,
            verdict=record.verdict,
            headline=headline,
            failures=tuple(record.failures),
            report=str(self.options.report_dir / "watch.html"),
            action=record.action.value,
        )
        record.notifications = self.notifier.send(message)

    # -- the accumulating report ---------------------------------------------------------

    @property
    def exit_code(self) -> int:
        if self.rolled_back is not None or not self.rounds:
            return NO_GO
        if self._stop.is_set():  # the watch did not run its course: nothing says it is fine
            return NO_GO
        return 1 if self.state is Action.PREPARED else 0

    def to_json(self) -> dict[str, Any]:
        o = self.options
        return {
            "environment": o.environment,
            "started_at": self.started,
            "updated_at": _now(),
            "interval_s": o.interval_s,
            "for_s": o.for_s,
            "rounds_planned": o.rounds,
            "rollback_after_warning_rounds": o.limits.warning_rounds,
            "rollback_after_blind_rounds": o.limits.blind_rounds,
            "state": self.state.value,
            "stopped_by": self.stopped_by,
            "exit_code": self.exit_code,
            "rounds": [r.to_json() for r in self.rounds],
        }

    def write(self) -> None:
        folder = self.options.report_dir
        make_dirs(folder)
        data = self.to_json()
        write_json(folder / "watch.json", data)
        write_atomic(folder / "watch.md", render_markdown(data))
        write_atomic(folder / "watch.html", render_html(data))


def render_markdown(data: dict[str, Any]) -> str:
    lines = [
        f"## Readiness watch: {data['environment']}",
        "",
        f"State: **{data['state']}** · {len(data['rounds'])} of {data['rounds_planned']} rounds"
        f" · {data['stopped_by'] or 'running'}",
        "",
        "| round | finished | verdict | action | failures | report |",
        "|---|---|---|---|---|---|",
    ]
    for r in data["rounds"]:
        first = (r["failures"] or [""])[0].replace("|", "/")
        more = f" (+{len(r['failures']) - 1})" if len(r["failures"]) > 1 else ""
        lines.append(
            f"| {r['round']} | {r['finished_at']} | {r['verdict']} | {r['action']} | "
            f"{first}{more} | {r['report']} |"
        )
    return "\n".join(lines) + "\n"


def render_html(data: dict[str, Any]) -> str:
    rows = []
    for r in data["rounds"]:
        failures = "".join(f"<li>{escape(f)}</li>" for f in r["failures"])
        extra = ""
        if r["rollback"] is not None:
            extra += f"<div>rollback: exit {escape(str(r['rollback'].get('exit_code')))}</div>"
        for n in r["notifications"]:
            state = "sent" if n["ok"] else f"FAILED ({escape(n['error'])})"
            extra += f"<div>notified {escape(n['channel'])} {escape(n['target'])}: {state}</div>"
        rows.append(
            f"<tr><td>{r['round']}</td><td>{escape(r['finished_at'])}</td>"
            f"<td>{escape(r['verdict'])}</td><td>{escape(r['action'])}</td>"
            f"<td><ul>{failures}</ul>{extra}</td>"
            f'<td><a href="{escape(Path(r["report"]).parent.name)}/readiness.html">report</a>'
            "</td></tr>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Readiness watch: {escape(data['environment'])}</title></head><body>"
        f"<h1>Readiness watch: {escape(data['environment'])}</h1>"
        f"<p>State <b>{escape(data['state'])}</b> · {len(data['rounds'])} of "
        f"{data['rounds_planned']} rounds · {escape(data['stopped_by'] or 'running')}</p>"
        "<table border='1' cellpadding='4'><tr><th>round</th><th>finished</th><th>verdict</th>"
        f"<th>action</th><th>failures</th><th>report</th></tr>{''.join(rows)}</table>"
        "</body></html>\n"
    )
