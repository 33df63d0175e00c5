"""How a stage runs: a pytest session of the suite through the CI gate, or a command.

Every gate stage is `run_phase` (deploy_steps/gate.py): the stage's verdict counts only
when pytest's exit code equals its verdict.json's. The rollback is `readiness rollback
--journal FILE` in a child process (exit 0: restored or nothing to do). Both go through
a `StageRunner`, so the orchestration can be tested with a runner that records calls.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, final

from deploy_steps.gate import GateResult, run_phase
from deploy_steps.golive.monitoring import journal_rollback_argv
from readiness.files import make_dirs

# What `readiness rollback` runs (deploy_steps/cli.py's `rollback` command).
ROLLBACK_MODULE = "deploy_steps.rollback_cli"


@final
@dataclass(frozen=True, slots=True)
class CommandResult:
    exit_code: int
    output: str


class StageRunner(Protocol):
    def gate(
        self, phase: str, env: str, report_dir: Path, extra: list[str], environ: Mapping[str, str]
    ) -> GateResult: ...

    def rollback(self, journal: Path, environ: Mapping[str, str]) -> CommandResult: ...

    def cannot_rollback(self) -> str:
        """'' when a rollback is possible; otherwise why a deploy must not start."""
        ...


@final
class SubprocessRunner:
    """The real thing: child processes of this Python, from the current directory."""

    __slots__ = ()

    def gate(
        self, phase: str, env: str, report_dir: Path, extra: list[str], environ: Mapping[str, str]
    ) -> GateResult:
        make_dirs(report_dir)
        return run_phase(phase, env, report_dir, extra, environ=environ)

    def rollback(self, journal: Path, environ: Mapping[str, str]) -> CommandResult:
        command = list(journal_rollback_argv(journal))
        try:
            completed = subprocess.run(
                command,
                env=dict(os.environ, **environ),
                capture_output=True,
                text=True,
                timeout=30 * 60,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            return CommandResult(2, f"the rollback did not finish within 30 min: {exc}")
        output = completed.stdout + completed.stderr
        sys.stdout.write(output)
        return CommandResult(completed.returncode, output)

    def cannot_rollback(self) -> str:
        return rollback_available()


def rollback_available() -> str:
    """'' when this build has `readiness rollback` (the module that command runs);
    else why a deploy must not start."""
    try:
        found = importlib.util.find_spec(ROLLBACK_MODULE) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return (
            "this build has no `readiness rollback` command, so a failed deploy could not be "
            "undone: the deploy stage is refused (the deploy phase is not in this tree yet)"
        )
    return ""


def read_verdict(report_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((report_dir / "verdict.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
