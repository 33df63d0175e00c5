"""`readiness rollback --journal FILE [--dry-run]`: finish a rollback after a crash.

Exit 0 when the state is the journalled one (restored now, or nothing to do), 2
otherwise (a step could not be reverted, the journal is unreadable, a dry run found
changes to make). Never a traceback: every failure is one line on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from deploy_steps.journal import Journal, JournalError, JournalLock
from deploy_steps.rollback import run_rollback
from readiness.aws.access import AwsAccess
from readiness.config import ConfigError, load_config

RESTORED = 0
NOT_RESTORED = 2


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


def _rollback(path: Path, *, dry_run: bool) -> int:
    try:
        journal = Journal.load(path)
        data = journal.data
        config_path = Path(str(data.get("config_path") or "readiness.toml"))
        config, _ = load_config(config_path)
        env = config.environment(str(data["environment"]))
        endpoint = data.get("endpoint")
        if env.emulated and not endpoint:
            raise JournalError(f"{path}: an emulated environment but no endpoint in the journal")
        # A dry run keeps the read-only guard: it cannot write even by mistake.
        aws = AwsAccess(env, endpoint_url=str(endpoint) if endpoint else None, read_only=dry_run)
        what = "dry run: nothing is written" if dry_run else "reverting"
        _say(f"{path} ({env.name}, deploy status {journal.status}): {what}")
        report = run_rollback(journal, aws, dry_run=dry_run, say=_say, reason="readiness rollback")
    except (JournalError, ConfigError) as exc:
        _complain(str(exc))
        return NOT_RESTORED
    except KeyboardInterrupt:
        _complain("interrupted; run it again to finish")
        return NOT_RESTORED
    except Exception as exc:  # never a traceback
        _complain(f"{type(exc).__name__}: {exc}")
        return NOT_RESTORED
    for action in report.actions:
        _say(action)
    for problem in report.problems:
        _complain(f"PROBLEM: {problem}")
    if report.restored:
        _say("state restored" if not dry_run else "nothing to do: the state is the journalled one")
        return RESTORED
    if dry_run and not report.problems:
        _say(f"{report.pending} change(s) would be made")
    return NOT_RESTORED
