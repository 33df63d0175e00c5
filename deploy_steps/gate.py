"""The CI gate: run one phase as a pytest session and trust only a matching verdict.

pytest can exit 0, 1 or 2 for reasons that have nothing to do with the verdict (a
crash, a timeout's `os._exit(1)`, a broken pipe). The run's `verdict.json` says NO-GO
until the verdict plugin replaces it, so the gate exits with the verdict only when the
process exit code equals the file's, for this very run; NO-GO (2) otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

NO_GO = 2
PHASES = ("preflight", "audit", "deploy", "postdeploy")


@final
@dataclass(frozen=True, slots=True)
class GateResult:
    exit_code: int
    process_code: int
    verdict: dict[str, Any] | None
    reason: str

    @property
    def trusted(self) -> bool:
        return self.reason == ""


def judge(process_code: int, verdict_file: Path, run_id: str) -> GateResult:
    """The gate's rule, on its own so it can be tested without running pytest."""
    try:
        verdict = json.loads(verdict_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return GateResult(NO_GO, process_code, None, f"no readable verdict.json: {exc}")
    if not isinstance(verdict, dict):
        return GateResult(NO_GO, process_code, None, "verdict.json is not an object")
    if verdict.get("run_id") != run_id:
        return GateResult(NO_GO, process_code, verdict, "verdict.json is from another run")
    if not verdict.get("complete"):
        return GateResult(NO_GO, process_code, verdict, "the run did not finish")
    file_code = verdict.get("exit_code")
    if file_code not in (0, 1, 2):
        return GateResult(NO_GO, process_code, verdict, f"verdict.json exit_code {file_code!r}")
    if process_code != file_code:
        return GateResult(
            NO_GO,
            process_code,
            verdict,
            f"pytest exited {process_code} but verdict.json says {file_code}",
        )
    return GateResult(int(file_code), process_code, verdict, "")


def pytest_command(phase: str, env: str | None, report_dir: Path, extra: list[str]) -> list[str]:
    # `--opt=value`: pytest picks the rootdir before it knows plugin options, and would
    # take a separate, existing path for a test path.
    command = [sys.executable, "-m", "pytest", "-m", phase, f"--report-dir={report_dir}"]
    if env:
        command += ["--env", env]
    return command + extra


def run_phase(
    phase: str,
    env: str | None,
    report_dir: Path,
    extra: list[str],
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> GateResult:
    """`environ` adds variables for the child (a go-live shares its emulator this way)."""
    run_id = uuid.uuid4().hex[:12]
    child_env = dict(os.environ, **(environ or {}), READINESS_RUN_ID=run_id)
    try:
        completed = subprocess.run(
            pytest_command(phase, env, report_dir, extra), env=child_env, cwd=cwd, check=False
        )
        code = completed.returncode
    except KeyboardInterrupt:
        code = NO_GO
    return judge(code, report_dir / "verdict.json", run_id)
