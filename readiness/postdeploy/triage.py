"""Triage when a post-deploy check fails: what an on-call engineer looks at first.

The seed's emergency flow: recent error lines from the configured log groups
(FilterLogEvents, one bounded read per group), the alarms in ALARM, the state of each
service and function. The alarms and services come from the run's snapshot (no new
read); the log lines are the only live read, and it is read-only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html import escape
from typing import Any, final

from readiness.aws.access import AwsAccess
from readiness.aws.guard import declare
from readiness.config import Environment
from readiness.inventory.model import NotEvaluated, Snapshot

ERROR_TERMS = ("ERROR", "Error", "error", "Exception", "FATAL", "Traceback")
ERROR_PATTERN = " ".join(f"?{term}" for term in ERROR_TERMS)
LINE_MAX = 300
READS = declare("the post-deploy triage", ("logs:FilterLogEvents",), log_events=True)


@final
@dataclass(slots=True)
class Triage:
    log_lines: list[tuple[str, str, str]] = field(default_factory=list)  # group, time, line
    log_problems: list[str] = field(default_factory=list)
    alarms: list[tuple[str, str, str]] = field(default_factory=list)  # label, since, reason
    services: list[tuple[str, str]] = field(default_factory=list)  # label, state

    def markdown(self) -> str:
        out = ["**Recent error lines**", ""]
        out += [f"- `{g}` {t}: {line}" for g, t, line in self.log_lines] or ["- none found"]
        out += [f"- could not read: {p}" for p in self.log_problems]
        out += ["", "**Alarms in ALARM**", ""]
        out += [f"- {a} since {s}: {r}" for a, s, r in self.alarms] or ["- none"]
        out += ["", "**Services**", ""]
        out += [f"- {label}: {state}" for label, state in self.services] or ["- none read"]
        return "\n".join(out)

    def html(self) -> str:
        def items(rows: list[str], empty: str) -> str:
            return "<ul>" + ("".join(rows) or f"<li>{escape(empty)}</li>") + "</ul>"

        logs = [
            f"<li><code>{escape(g)}</code> {escape(t)}: <code>{escape(line)}</code></li>"
            for g, t, line in self.log_lines
        ] + [f"<li>could not read: {escape(p)}</li>" for p in self.log_problems]
        alarms = [f"<li>{escape(a)} since {escape(s)}: {escape(r)}</li>" for a, s, r in self.alarms]
        services = [f"<li>{escape(label)}: {escape(s)}</li>" for label, s in self.services]
        return (
            "<div class='triage'><h3>Recent error lines</h3>"
            + items(logs, "none found")
            + "<h3>Alarms in ALARM</h3>"
            + items(alarms, "none")
            + "<h3>Services</h3>"
            + items(services, "none read")
            + "</div>"
        )


def recent_errors(
    access: AwsAccess, env: Environment, now: dt.datetime
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """At most `triage_log_events` lines per group from the last `triage_minutes`."""
    settings = env.postdeploy
    start = int((now - dt.timedelta(minutes=settings.triage_minutes)).timestamp() * 1000)
    lines: list[tuple[str, str, str]] = []
    problems: list[str] = []
    client = access.client("logs", env.home_region)
    for group in env.log_groups:
        try:
            with access.permit(READS):
                answer = client.filter_log_events(
                    logGroupName=group,
                    startTime=start,
                    filterPattern=ERROR_PATTERN,
                    limit=settings.triage_log_events,
                )
        except Exception as exc:  # triage is help, not evidence: report and go on
            problems.append(f"{group}: {type(exc).__name__}: {exc}")
            continue
        events = sorted(
            (  # the pattern is applied again: an endpoint may ignore it
                e
                for e in answer.get("events") or []
                if any(term in str(e.get("message", "")) for term in ERROR_TERMS)
            ),
            key=lambda e: int(e.get("timestamp", 0)),
        )
        for event in events[-settings.triage_log_events :]:
            stamp = dt.datetime.fromtimestamp(int(event.get("timestamp", 0)) / 1000, dt.UTC)
            message = str(event.get("message", "")).strip()[:LINE_MAX]
            lines.append((group, stamp.strftime("%H:%M:%S"), message))
    return lines, problems


def _records(snapshot: Snapshot, kind: str) -> list[Any]:
    try:
        return snapshot.resources(kind)
    except NotEvaluated:
        return []


def gather(
    snapshot: Snapshot | None, access: AwsAccess | None, env: Environment, now: dt.datetime
) -> Triage:
    triage = Triage()
    if access is not None and env.log_groups:
        triage.log_lines, triage.log_problems = recent_errors(access, env, now)
    elif env.log_groups:
        triage.log_problems.append("no live AWS access in this run (snapshot replay)")
    if snapshot is None:
        return triage
    for alarm in _records(snapshot, "cloudwatch.metric_alarms"):
        if alarm.get("StateValue") == "ALARM":
            triage.alarms.append(
                (
                    alarm.label,
                    str(alarm.get("StateUpdatedTimestamp", "?")),
                    str(alarm.get("StateReason", "")),
                )
            )
    for service in _records(snapshot, "ecs.services"):
        primary: dict[str, Any] = next(
            (d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), {}
        )
        triage.services.append(
            (
                f"ECS {service.label}",
                f"{service.get('runningCount', '?')}/{service.get('desiredCount', '?')} "
                f"running, rollout {primary.get('rolloutState', '?')}",
            )
        )
    for function in _records(snapshot, "lambda.functions"):
        triage.services.append(
            (
                f"Lambda {function.label}",
                f"{function.get('State', '?')}, last update "
                f"{function.get('LastUpdateStatus', '?')}",
            )
        )
    return triage
