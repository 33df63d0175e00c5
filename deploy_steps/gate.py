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
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

from readiness.config import ConfigError, load_config
from readiness.emulator import handoff
from readiness.emulator.process import (
    ATTACH_ENDPOINT,
    EmulatorError,
    EmulatorProcess,
)

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


def emulator_wanted(
    env: str | None, extra: list[str], cwd: Path | None
) -> tuple[str, tuple[str, ...]] | None:
    """The seed and regions to start early, when the run will surely want an emulator.

    Only for the plain case: the configuration at its default place, no snapshot, no
    emulator handed down already. Anything else is left to the run, as before.
    """
    if any(arg.startswith(("--config", "--snapshot", "--help", "-h")) for arg in extra):
        return None
    try:
        config, _ = load_config((cwd or Path.cwd()) / "readiness.toml")
        environment = config.environment(env)
    except ConfigError:
        return None  # the run reports it
    if environment.emulator is None:
        return None
    return environment.emulator.seed, tuple(environment.regions)


def _run_with_early_emulator(
    command: list[str],
    env: dict[str, str],
    cwd: Path | None,
    phase_env: str | None,
    extra: list[str],
) -> int:
    """pytest starts at once; meanwhile the emulator it will want starts beside it."""
    with tempfile.TemporaryDirectory(prefix="readiness-handoff-") as folder:
        pending = Path(folder) / "emulator.json"
        process = subprocess.Popen(command, env={**env, handoff.PENDING: str(pending)}, cwd=cwd)
        emulator: EmulatorProcess | None = None
        try:
            wanted = emulator_wanted(phase_env, extra, cwd)
            if wanted is None:
                handoff.hand_over_nothing(pending)
            else:
                seed, regions = wanted
                try:
                    emulator = EmulatorProcess.start(seed, regions=regions)
                except EmulatorError as exc:
                    handoff.hand_over_failure(pending, str(exc))
                else:
                    handoff.hand_over(pending, emulator, regions)
            return process.wait()
        except KeyboardInterrupt:
            # pytest got the interrupt too (or stops waiting now): let it write its
            # NO-GO, then make sure.
            if not pending.exists():
                handoff.hand_over_failure(pending, "interrupted")
            try:
                process.wait(timeout=30)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                process.kill()
                process.wait()
            raise
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if emulator is not None:
                emulator.stop()


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
    command = pytest_command(phase, env, report_dir, extra)
    verdict_file = report_dir / "verdict.json"
    try:
        if ATTACH_ENDPOINT in child_env:  # an emulator was handed down: nothing to start
            code = subprocess.run(command, env=child_env, cwd=cwd, check=False).returncode
        else:
            code = _run_with_early_emulator(command, child_env, cwd, env, extra)
    except KeyboardInterrupt:
        judged = judge(NO_GO, verdict_file, run_id)
        if judged.trusted:  # the run wrote its own NO-GO for the interrupt
            return judged
        return GateResult(NO_GO, NO_GO, judged.verdict, f"interrupted; {judged.reason}")
    return judge(code, verdict_file, run_id)
