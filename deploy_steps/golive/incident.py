"""The incident record: `out/incidents/<UTC timestamp>.md`, written on a rollback or a
critical monitoring failure, and the notification that goes with it.

It follows the seed's emergency flow: what failed (the checks, with their messages and
remediation), triage (logs, active alarms, services), the rollback and its result, who
was notified, and a post-mortem checklist. Secrets never appear: a webhook is named
"configured", never by its URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import final

from deploy_steps.golive import timeline
from deploy_steps.golive.decision import OPEN, Finding
from deploy_steps.golive.restored import restored_lines
from deploy_steps.golive.resume import RunState, stamp, utcnow
from readiness.config import Environment
from readiness.notify import Delivery
from readiness.postdeploy.watch import RoundRecord, rollback_cause
from reports.files import write_atomic


@final
@dataclass(frozen=True, slots=True)
class RollbackResult:
    attempted: bool
    exit_code: int | None
    summary: str
    output_tail: str = ""
    journal: str = ""

    @property
    def restored(self) -> bool:
        return self.attempted and self.exit_code == 0


@final
@dataclass(frozen=True, slots=True)
class Notification:
    channel: str
    sent: bool
    detail: str


def notify(
    env: Environment, headline: str, failing: Sequence[Finding], record: Path, endpoint: str | None
) -> list[Notification]:
    """Tell the environment's SNS topic and webhook (readiness.notify); never raises."""
    from readiness.aws.access import AwsAccess
    from readiness.notify import Message, Notifier

    problems: list[Notification] = []
    access = None
    if env.notify.sns_topic_arn:
        try:
            access = AwsAccess(env, endpoint_url=endpoint, read_only=True)
        except Exception as exc:  # reported as an undelivered notification
            problems.append(Notification("sns", False, f"no AWS access: {type(exc).__name__}"))
    message = Message(
        environment=env.name,
        verdict="NO_GO",
        headline=headline,
        failures=tuple(f.label for f in failing),
        report=str(record),
        action="rolled back; see the incident record",
    )
    try:
        deliveries = Notifier(env, access).send(message)
    except Exception as exc:  # never fatal to the go-live
        deliveries = []
        problems.append(Notification("notifier", False, f"{type(exc).__name__}: {exc}"))
    return delivered(env, deliveries, problems)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def _failing_lines(failing: Sequence[Finding]) -> list[str]:
    lines = ["", "## Failing checks", ""]
    if failing:
        lines += [
            "| Stage | Severity | Outcome | Check | Resource | Message | Remediation |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in failing:
            lines.append(
                f"| {f.stage} | {f.severity} | {f.outcome} | `{f.check_id}` | "
                f"{_cell(f.resource)} | {_cell(f.message)} | {_cell(f.remediation)} |"
            )
    else:
        lines.append("No check result names the failure; see the stage's gate reason above.")
    return lines


def _triage_lines(env: Environment) -> list[str]:
    """The emergency flow's triage pointers; the caller lists its reports after them."""
    return [
        "",
        "## Triage (the emergency flow)",
        "",
        "1. CloudWatch Logs: "
        + (
            ", ".join(f"`{g}`" for g in env.log_groups)
            if env.log_groups
            else "(no log_groups configured)"
        )
        + " — look for the first error after the deploy started.",
        "2. Active alarms: any alarm in ALARM is a critical signal; see the failing alarm "
        "checks above and the stage reports.",
        "3. Services: ECS rollouts, running vs desired tasks, Lambda state (the stage "
        "reports' triage sections list them).",
        "",
        "Stage reports:",
        "",
    ]


def _rollback_lines(rollback: RollbackResult, command: str) -> list[str]:
    lines = ["", "## Rollback result", ""]
    if rollback.attempted:
        lines.append(f"- Command: `{command}`")
        lines.append(f"- Exit code: {rollback.exit_code}")
    lines.append(f"- Result: {rollback.summary}")
    if rollback.attempted:
        lines += restored_lines(rollback.journal)
    if rollback.output_tail:
        lines += ["", "```", rollback.output_tail.rstrip(), "```"]
    return lines


def _notified_lines(notified: Sequence[Notification]) -> list[str]:
    lines = ["", "## Who was notified", ""]
    for n in notified:
        lines.append(f"- {n.channel}: {'sent' if n.sent else 'NOT sent'} ({n.detail})")
    return lines


def _checklist_lines(env: Environment) -> list[str]:
    return [
        "",
        "## Post-mortem checklist",
        "",
        "- [ ] Confirm the rollback result above against the account (resources, services, "
        "alarms back to OK)",
        "- [ ] Notify the team"
        + (f" in {env.on_call}" if env.on_call else "")
        + " with this record",
        "- [ ] Find the root cause in the logs and the failing checks",
        "- [ ] Schedule the post-mortem (within 5 working days) and name an owner",
        "- [ ] Write the timeline of events, impact (users, duration) and detection time",
        "- [ ] Add a check or a threshold that would have caught this before the deploy",
        "- [ ] Fix, re-run `readiness gate audit`, then `readiness go-live` again",
        "",
    ]


def render(
    state: RunState,
    env: Environment,
    trigger: str,
    failing: Sequence[Finding],
    rollback: RollbackResult,
    notified: Sequence[Notification],
    run_dir: Path,
) -> str:
    now = utcnow().isoformat(timespec="seconds")
    lines = [
        f"# Incident: go-live of {env.name} — {trigger}",
        "",
        f"- When (UTC): {now}",
        f"- Environment: {env.name} ({env.description or 'no description'}), "
        f"account {env.account_id}, regions {', '.join(env.regions)}"
        + (" — LOCAL EMULATOR, not a real account" if state.emulated else ""),
        f"- Go-live: {state.stamp} (`{run_dir}`), timeline `{run_dir / 'timeline.html'}`",
        f"- Trigger: {trigger}",
        f"- Rollback: {rollback.summary}",
        f"- Runbook: {env.runbook_url or '(runbook_url not set)'}",
        "",
        "## Timeline",
        "",
        "| Stage | Start (UTC) | Took | Plan | Against plan | Outcome |",
        "|---|---|---|---|---|---|",
    ]
    for row in timeline.rows(state):
        plan = row["plan_minutes"]
        lines.append(
            f"| {row['stage']} | {row['started_at'][:19]} | {row['duration_s']:.1f} s | "
            f"{'-' if plan is None else f'{plan:g} min'} | {row['against_plan']} | "
            f"{_cell(row['outcome'] or row['status'])} |"
        )
        for part in row["parts"]:
            lines.append(
                f"| ↳ {_cell(part['name'])} | {part['started_at'][:19]} | "
                f"{part['duration_s']:.1f} s | {part['plan_minutes']:g} min | "
                f"{part['against_plan']} | {_cell(part['outcome'])} |"
            )
    lines += _failing_lines(failing)
    lines += _triage_lines(env)
    for name, record in state.stages.items():
        if record.report_dir and name != "decision":
            lines.append(f"- {name}: `{run_dir / record.report_dir / 'readiness.html'}`")
    command = f"readiness rollback --journal {rollback.journal}"
    lines += _rollback_lines(rollback, command)
    lines += _notified_lines(notified)
    lines += _checklist_lines(env)
    return "\n".join(lines)


def write(
    incidents_dir: Path,
    state: RunState,
    env: Environment,
    trigger: str,
    failing: Sequence[Finding],
    rollback: RollbackResult,
    run_dir: Path,
    endpoint: str | None = None,
) -> tuple[Path, list[Notification]]:
    """Notify, then write the record; returns its path (unique per second and run)."""
    name = stamp(utcnow())
    path = incidents_dir / f"{name}.md"
    counter = 1
    while path.exists():
        counter += 1
        path = incidents_dir / f"{name}-{counter}.md"
    headline = f"go-live {trigger}; rollback: {rollback.summary}"
    notified = notify(env, headline, failing, path, endpoint)
    write_atomic(path, render(state, env, trigger, failing, rollback, notified, run_dir))
    return path, notified


def delivered(
    env: Environment, deliveries: Sequence[Delivery], problems: Sequence[Notification] = ()
) -> list[Notification]:
    """The notifications as the record lists them: on-call first, then what kept one
    from being sent, then each delivery."""
    sent: list[Notification] = []
    if env.on_call:
        sent.append(
            Notification(f"on-call {env.on_call}", False, "page them with this record's path")
        )
    sent.extend(problems)
    for d in deliveries:
        sent.append(Notification(f"{d.channel} {d.target}", d.ok, d.error or "delivered"))
    if not env.on_call and not env.notify.sns_topic_arn and not env.notify.webhook_url:
        sent.append(
            Notification("(none configured)", False, "set on_call and [notify] in readiness.toml")
        )
    return sent


def monitoring_trigger(record: RoundRecord) -> str:
    return f"{rollback_cause(record)} in monitoring round {record.number}"


def render_monitoring(
    env: Environment,
    emulated: bool,
    watched: str,
    rounds: Sequence[RoundRecord],
    record: RoundRecord,
    rollback: RollbackResult,
    command: str,
) -> str:
    """The record of a rollback decided while monitoring (`readiness watch` and
    `readiness go-live --monitor` write the same one; `watched` says which ran)."""
    trigger = monitoring_trigger(record)
    now = utcnow().isoformat(timespec="seconds")
    lines = [
        f"# Incident: monitoring of {env.name} — {trigger}",
        "",
        f"- When (UTC): {now}",
        f"- Environment: {env.name} ({env.description or 'no description'}), "
        f"account {env.account_id}, regions {', '.join(env.regions)}"
        + (" — LOCAL EMULATOR, not a real account" if emulated else ""),
        f"- Watched by: {watched}",
        f"- Trigger: {trigger}",
        f"- Decision: `{record.rule}`: {record.headline}",
        f"- Rollback: {rollback.summary}",
        f"- Runbook: {env.runbook_url or '(runbook_url not set)'}",
        "",
        "## Rounds",
        "",
        "| Round | Finished (UTC) | Verdict | Decision | Rule | Summary |",
        "|---|---|---|---|---|---|",
    ]
    for r in rounds:
        lines.append(
            f"| {r.number} | {r.finished[:19]} | {r.verdict} | {r.action.value} | "
            f"{r.rule} | {_cell(r.summary)} |"
        )
    failing = [
        Finding.from_result("monitoring", result)
        for result in record.results
        if result.get("outcome") in OPEN
    ]
    lines += _failing_lines(failing)
    if record.untrusted:
        lines.append(f"- The round gave no trusted verdict: {_cell(record.untrusted)}")
    lines += _triage_lines(env)
    for r in rounds:
        lines.append(f"- round {r.number}: `{r.report}`")
    lines += _rollback_lines(rollback, command)
    lines += _notified_lines(delivered(env, record.notifications))
    lines += _checklist_lines(env)
    return "\n".join(lines)


def write_monitoring(
    incidents_dir: Path,
    env: Environment,
    emulated: bool,
    watched: str,
    rounds: Sequence[RoundRecord],
    record: RoundRecord,
    rollback: RollbackResult,
    command: str,
) -> Path:
    """Write the monitoring incident record (the round's notifications were already sent)."""
    name = stamp(utcnow())
    path = incidents_dir / f"{name}.md"
    counter = 1
    while path.exists():
        counter += 1
        path = incidents_dir / f"{name}-{counter}.md"
    write_atomic(path, render_monitoring(env, emulated, watched, rounds, record, rollback, command))
    return path
