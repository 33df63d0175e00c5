"""`readiness rollback --journal FILE [--dry-run]`: finish a rollback after a crash.

Exit 0 when the state is the journalled one, verified by reading it back (restored
now, or nothing to do), 2 otherwise: "partially restored" with every difference named
(a step could not be reverted, the previous release could not be re-applied), the
journal is unreadable, a dry run found changes to make. Never a traceback: every
failure is one line on stderr, and a rollback that did not finish says on stdout the
command that finishes it.

The configuration is read lazily: only the environment the journal names, and of it
only what the rollback uses. An unset ${VAR} is an error only when its key is needed:
the keys AWS access is made from, and the sensitive terraform variables the deploy
passed when terraform destroy is about to run.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deploy_steps.journal import Journal, JournalError, JournalLock
from deploy_steps.journal import rollback_command as command_for
from deploy_steps.rollback import VariableSource, environment_variables, run_rollback
from readiness.aws.access import AwsAccess
from readiness.config import ConfigError, DeferredEnvironment, load_environment

RESTORED = 0
NOT_RESTORED = 2
# What AwsAccess is made from: each must be resolved before the first call.
ACCESS_KEYS = (
    "account_id",
    "regions",
    "profile",
    "role_arn",
    "external_id",
    "endpoint_url",
    "emulator",
    "max_attempts",
    "connect_timeout_s",
    "read_timeout_s",
    "parallelism",
)


def _say(text: str) -> None:
    print(f"rollback | {_one_line(text)}", flush=True)


def _complain(text: str) -> None:
    print(f"readiness rollback: {_one_line(text)}", file=sys.stderr)


def _one_line(text: str) -> str:
    """AWS and botocore messages may span lines (parameter validation does): one each."""
    return " ".join(text.split())


def rollback_command(path: Path, *, dry_run: bool) -> int:
    if not path.is_file():
        return _rollback(path, dry_run=dry_run)  # says what is wrong; nothing is created
    try:
        with JournalLock(path).acquire("readiness rollback"):
            return _rollback(path, dry_run=dry_run)
    except JournalError as exc:
        _complain(str(exc))
        return NOT_RESTORED


def _variables(deferred: DeferredEnvironment) -> VariableSource:
    """The sensitive terraform variables, resolved only when asked for (by a destroy)."""

    def resolve(names: Sequence[str]) -> Mapping[str, Any]:
        env = deferred.require(*(f"deploy.terraform_vars.{name}" for name in names))
        try:
            return environment_variables(env)(names)
        except ConfigError as exc:
            raise ConfigError(f"{deferred.source}: {exc}") from None

    return resolve


def _rollback(path: Path, *, dry_run: bool) -> int:
    loaded = False
    try:
        journal = Journal.load(path)
        loaded = True
        data = journal.data
        config_path = Path(str(data.get("config_path") or "readiness.toml"))
        deferred = load_environment(config_path, str(data["environment"]))
        env = deferred.require(*ACCESS_KEYS)
        endpoint = data.get("endpoint")
        if env.emulated and not endpoint:
            raise JournalError(f"{path}: an emulated environment but no endpoint in the journal")
        # A dry run keeps the read-only guard: it cannot write even by mistake.
        aws = AwsAccess(env, endpoint_url=str(endpoint) if endpoint else None, read_only=dry_run)
        what = "dry run: nothing is written" if dry_run else "reverting"
        _say(f"{path} ({env.name}, deploy status {journal.status}): {what}")
        report = run_rollback(
            journal,
            aws,
            dry_run=dry_run,
            say=_say,
            reason="readiness rollback",
            variables=_variables(deferred),
        )
    except (JournalError, ConfigError) as exc:
        _complain(str(exc))
        return _unfinished(path, loaded, dry_run)
    except KeyboardInterrupt:
        _complain("interrupted; run it again to finish")
        return _unfinished(path, loaded, dry_run)
    except Exception as exc:  # never a traceback
        _complain(f"{type(exc).__name__}: {exc}")
        return _unfinished(path, loaded, dry_run)
    for action in report.actions:
        _say(action)
    for problem in report.problems:
        _complain(f"PROBLEM: {problem}")
    for difference in report.differences:
        _complain(f"DIFFERENCE: {difference}")
    if report.restored:
        if dry_run:
            _say("nothing to do: the state is the journalled one")
        else:
            _say(f"restored: state restored and verified (release: {report.release})")
        return RESTORED
    if dry_run and not report.problems:
        _say(f"{report.pending} change(s) would be made")
        return NOT_RESTORED
    if not dry_run:
        _say(
            f"partially restored: {len(report.problems)} problem(s), "
            f"{len(report.differences)} difference(s) named above (release: {report.release})"
        )
    return _unfinished(path, True, dry_run)


def _unfinished(path: Path, loaded: bool, dry_run: bool) -> int:
    """A journal that was read but is not restored: the command that finishes it."""
    if loaded and not dry_run:
        _say(f"not restored; once the problem is fixed, finish it with: {command_for(path)}")
    return NOT_RESTORED
