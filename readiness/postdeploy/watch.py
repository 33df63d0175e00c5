"""The watch: post-deploy checks round after round, and the seed's rollback decision tree.

Each round is one complete postdeploy gate run (its own pytest session, its own report
in `round-NNN/`), judged by the same verdict rules as any run. Per round:

- a critical check FAILED            → run the rollback command at once, notify, stop;
- any other non-GO verdict (warnings, not-evaluated, a run that did not finish)
                                     → notify (once, when the state changes) and mark
                                       the deployment "rollback prepared"; keep watching;
- GO                                 → continue (and say so once if a warning resolved).

A round the operator interrupted is never acted on. `watch.json`, `watch.md` and
`watch.html` in the report folder accumulate every round and are rewritten after each.
The runner of a round is given (a `RoundRunner`): this module knows nothing of how a
gate runs, only what it returns.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from html import escape
from pathlib import Path
from typing import Any, Protocol, final

from readiness.files import make_dirs, write_atomic, write_json
from readiness.notify import Delivery, Message, Notifier, failures_of

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
OUTPUT_TAIL = 2000
NO_GO = 2


def parse_duration(text: str) -> float:
    """'5m', '2h', '30s' or a number of seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (use e.g. 30s, 5m, 2h)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be more than zero")
    return seconds


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


class Action(StrEnum):
    CONTINUE = "continue"
    PREPARED = "rollback prepared"
    ROLLBACK = "rollback"
    INTERRUPTED = "interrupted"


def critical_failures(verdict: dict[str, Any] | None) -> list[dict[str, Any]]:
    results = (verdict or {}).get("results") or []
    return [r for r in results if r.get("severity") == "critical" and r.get("outcome") == "failed"]


def decide(result: RoundResult) -> Action:
    """The seed's decision tree for one round."""
    if critical_failures(result.verdict) and not result.reason:
        return Action.ROLLBACK
    if result.exit_code == 0 and not result.reason:
        return Action.CONTINUE
    return Action.PREPARED


@final
@dataclass(frozen=True, slots=True)
class WatchOptions:
    environment: str
    report_dir: Path
    interval_s: float
    for_s: float
    rollback_command: tuple[str, ...]
    max_rounds: int | None = None
    rollback_timeout_s: float = 900.0

    @property
    def rounds(self) -> int:
        bounded = int(self.for_s // self.interval_s) + 1
        return min(bounded, self.max_rounds) if self.max_rounds else bounded


def rollback_argv(command: Sequence[str], report_dir: Path, environment: str) -> list[str]:
    """The configured command with {report_dir} and {env} filled in; `readiness` is ours."""
    argv = [
        part.replace("{report_dir}", str(report_dir)).replace("{env}", environment)
        for part in command
    ]
    if argv and argv[0] == "readiness":
        argv = [sys.executable, "-m", "deploy_steps.cli", *argv[1:]]
    return argv


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
    failures: list[str] = field(default_factory=list)
    report: str = ""
    rollback: dict[str, Any] | None = None
    notifications: list[Delivery] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.number,
            "started_at": self.started,
            "finished_at": self.finished,
            "exit_code": self.exit_code,
            "verdict": self.verdict,
            "untrusted": self.untrusted,
            "action": self.action.value,
            "failures": list(self.failures),
            "report": self.report,
            "rollback": self.rollback,
            "notifications": [d.to_json() for d in self.notifications],
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@final
class Watch:
    """Bounded rounds; Ctrl-C ends the current round or pause and writes the report."""

    def __init__(
        self,
        options: WatchOptions,
        run_round: RoundRunner,
        notifier: Notifier | None,
        on_round: Callable[[RoundRecord], None] | None = None,
    ) -> None:
        self.options = options
        self.run_round = run_round
        self.notifier = notifier
        self.on_round = on_round
        self.rounds: list[RoundRecord] = []
        self.state = Action.CONTINUE
        self.stopped_by = ""
        self.started = _now()
        self._stop = threading.Event()

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
            self.stopped_by = "interrupted by the operator (Ctrl-C)"
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
                self.stopped_by = "interrupted by the operator (Ctrl-C)"
                return
            if record.action is Action.ROLLBACK:
                self.stopped_by = "rolled back after a critical failure"
                return
            if number == total:
                self.stopped_by = f"watched {total} rounds"
                return
            try:
                if self._stop.wait(self.options.interval_s):
                    self.stopped_by = "interrupted by the operator (Ctrl-C)"
                    return
            except KeyboardInterrupt:
                self.stopped_by = "interrupted by the operator (Ctrl-C)"
                return

    def _round(self, number: int) -> RoundRecord:
        folder = self.options.report_dir / f"round-{number:03d}"
        record = RoundRecord(number=number, started=_now())
        try:
            result = self.run_round(number, folder)
        except KeyboardInterrupt:
            self._stop.set()
            result = RoundResult(NO_GO, None, "interrupted", folder)
        except Exception as exc:  # the round could not run: blind, so prepare, never pass
            result = RoundResult(
                NO_GO, None, f"the round failed: {type(exc).__name__}: {exc}", folder
            )
        record.finished = _now()
        record.exit_code = result.exit_code
        record.verdict = str((result.verdict or {}).get("verdict_label", "NO-GO"))
        record.untrusted = result.reason
        record.failures = list(failures_of((result.verdict or {}).get("results") or []))
        if result.reason and not record.failures:
            record.failures = [f"the round gave no trusted verdict: {result.reason}"]
        record.report = str(folder / "readiness.html")
        if self._stop.is_set():
            record.action = Action.INTERRUPTED
            return record
        record.action = decide(result)
        self._act(record)
        return record

    # -- the decision tree's actions ----------------------------------------------------

    def _act(self, record: RoundRecord) -> None:
        action = record.action
        if action is Action.ROLLBACK:
            record.rollback = self._rollback()
            ok = record.rollback.get("exit_code") == 0
            outcome = "rollback ran" if ok else "ROLLBACK FAILED: act by hand"
            self._notify(record, f"critical failure in round {record.number}: {outcome}")
        elif action is Action.PREPARED and self.state is not Action.PREPARED:
            self._notify(
                record,
                f"round {record.number}: investigate, monitor closely; rollback prepared "
                f"(`{' '.join(self.options.rollback_command)}`)",
            )
        elif action is Action.CONTINUE and self.state is Action.PREPARED:
            self._notify(record, f"round {record.number}: resolved, monitoring continues")
        self.state = action

    def _rollback(self) -> dict[str, Any]:
        argv = rollback_argv(
            self.options.rollback_command, self.options.report_dir, self.options.environment
        )
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=self.options.rollback_timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"command": argv, "exit_code": None, "error": f"{type(exc).__name__}: {exc}"}
        output = (done.stdout + done.stderr)[-OUTPUT_TAIL:]
        return {"command": argv, "exit_code": done.returncode, "output": output}

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
        if any(r.action is Action.ROLLBACK for r in self.rounds) or not self.rounds:
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
