"""What `readiness watch` and `readiness go-live --monitor` share around the monitoring
engine (`readiness.postdeploy.watch`): the environment's limits, the notifier, the
rollback command as an argument list, and the incident record of a rollback round."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deploy_steps.golive import incident
from deploy_steps.golive.incident import RollbackResult
from readiness.aws.access import AwsAccess
from readiness.config import Environment
from readiness.notify import Notifier
from readiness.postdeploy.decide import Limits
from readiness.postdeploy.watch import RoundRecord, Watch

# `readiness` as this installation runs it: the same Python, the same package.
THIS_READINESS: tuple[str, ...] = (sys.executable, "-m", "deploy_steps.cli")
PLACEHOLDERS = ("{report_dir}", "{env}")


def limits_of(env: Environment) -> Limits:
    return Limits(
        warning_rounds=env.postdeploy.rollback_after_warning_rounds,
        blind_rounds=env.postdeploy.rollback_after_blind_rounds,
    )


def fill_in(command: Sequence[str], values: Mapping[str, str]) -> tuple[str, ...]:
    """The configured argument list with `{report_dir}` and `{env}` filled in, word by word."""
    filled = []
    for word in command:
        text = word
        for placeholder in PLACEHOLDERS:
            text = text.replace(placeholder, values[placeholder])
        filled.append(text)
    return tuple(filled)


def resolve_program(argv: Sequence[str]) -> tuple[str, ...]:
    """A first word `readiness` is this installation's command line (THIS_READINESS)."""
    if argv and argv[0] == "readiness":
        return (*THIS_READINESS, *argv[1:])
    return tuple(argv)


def rollback_argv(command: Sequence[str], report_dir: Path, environment: str) -> tuple[str, ...]:
    """The environment's `[postdeploy] rollback_command`, ready to run (no shell)."""
    values = {"{report_dir}": str(report_dir), "{env}": environment}
    return resolve_program(fill_in(command, values))


def journal_rollback_argv(journal: Path) -> tuple[str, ...]:
    """`readiness rollback --journal FILE` of this installation."""
    return (*THIS_READINESS, "rollback", "--journal", str(journal))


def notifier_for(env: Environment, endpoint: str | None) -> Notifier:
    """The environment's notifier; SNS gets read-only access (Publish only, see notify)."""
    access: AwsAccess | None = None
    if env.notify.sns_topic_arn is not None:
        try:
            access = AwsAccess(env, endpoint_url=endpoint, read_only=True)
        except Exception as exc:  # reported by the notifier as a failed delivery
            print(f"readiness: no AWS access for notifications: {exc}", file=sys.stderr)
    return Notifier(env, access, timeout_s=env.postdeploy.webhook_timeout_s)


def rollback_result(done: Mapping[str, Any], command: str) -> RollbackResult:
    """What the engine's rollback returned, as the incident record tells it."""
    code = done.get("exit_code")
    tail = "\n".join(str(done.get("output") or done.get("error") or "").strip().splitlines()[-30:])
    if code == 0:
        summary = "restored (rollback exit 0)"
    elif code is None:
        summary = f"FAILED (the rollback did not run: {done.get('error')}): run `{command}` by hand"
    else:
        summary = f"FAILED (rollback exit {code}): finish it by hand with `{command}`"
    journal = str(done.get("journal") or "")
    return RollbackResult(True, code if isinstance(code, int) else None, summary, tail, journal)


def write_incident(
    incidents_dir: Path,
    env: Environment,
    emulated: bool,
    watched: str,
    watch: Watch,
    record: RoundRecord,
    command: str,
) -> Path:
    """The incident record of a rollback round, the same for the watch and the go-live."""
    result = rollback_result(record.rollback or {}, command)
    rounds = [*watch.rounds, record] if record not in watch.rounds else list(watch.rounds)
    return incident.write_monitoring(
        incidents_dir, env, emulated, watched, rounds, record, result, command
    )
