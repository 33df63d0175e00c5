"""The CI gate: run one phase as a pytest session and trust only a matching verdict.

pytest can exit 0, 1 or 2 for reasons that have nothing to do with the verdict (a
crash, a timeout's `os._exit(1)`, a broken pipe). The run's `verdict.json` says NO-GO
until the verdict plugin replaces it, so the gate exits with the verdict only when the
process exit code equals the file's, for this very run, for the phase and environment
asked, over the whole of the phase (unless `--allow-partial`); NO-GO (2) otherwise.

Before pytest starts the gate removes every output of the previous run; when it does not
trust the run it writes a NO-GO verdict.json, summary.md, junit.xml and readiness.html of
its own saying why (reports/untrusted.py), so CI never publishes a stale GO.
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
from readiness.files import make_dirs
from reports import untrusted
from reports.coverage import GATE_PHASE, gate_phase, shorten

NO_GO = 2
PHASES = ("preflight", "audit", "deploy", "postdeploy")
ALLOW_PARTIAL = "--allow-partial"
ALLOW_REPLAY = "--allow-replay"


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


def judge(
    process_code: int,
    verdict_file: Path,
    run_id: str,
    *,
    phase: str | None = None,
    env: str | None = None,
    allow_partial: bool = True,
    allow_replay: bool = True,
) -> GateResult:
    """The gate's rule, on its own so it can be tested without running pytest.

    `phase` and `env`, when given, must be what verdict.json judged; a GO or CONDITIONAL
    GO of part of the phase counts only with `allow_partial`, of a replayed snapshot
    only with `allow_replay`. A NO-GO is a NO-GO whatever it judged.
    """
    try:
        verdict = json.loads(verdict_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return GateResult(NO_GO, process_code, None, f"no readable verdict.json: {exc}")
    if not isinstance(verdict, dict):
        return GateResult(NO_GO, process_code, None, "verdict.json is not an object")
    if verdict.get("run_id") != run_id:
        return GateResult(NO_GO, process_code, verdict, "verdict.json is from another run")
    if verdict.get("written_by") == untrusted.WRITTEN_BY:
        return GateResult(
            NO_GO,
            process_code,
            verdict,
            "the run wrote no verdict.json of its own: it died before the verdict plugin "
            "started, or the plugin was not active (-p no:..., --noconftest, "
            "-o readiness_gate=false, another rootdir or ini file)",
        )
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
    if file_code == NO_GO:
        return GateResult(NO_GO, process_code, verdict, "")
    why = _not_what_was_asked(verdict, phase, env, allow_partial, allow_replay)
    if why:
        return GateResult(NO_GO, process_code, verdict, why)
    return GateResult(int(file_code), process_code, verdict, "")


def _not_what_was_asked(
    verdict: dict[str, Any],
    phase: str | None,
    env: str | None,
    allow_partial: bool,
    allow_replay: bool,
) -> str:
    """Why a GO or CONDITIONAL GO in verdict.json is not a verdict on what was asked."""
    judged = verdict.get("phase")
    if phase is not None and judged != phase:
        return f"verdict.json judged phase {judged!r}, not {phase!r}: a GO of another phase"
    environment = verdict.get("environment")
    if env is not None and environment != env:
        return f"verdict.json judged environment {environment!r}, not {env!r}"
    if verdict.get("partial") is not False and not allow_partial:
        coverage = verdict.get("coverage")
        left = coverage.get("not_judged", []) if isinstance(coverage, dict) else []
        shown = shorten([str(c) for c in left], 5)
        return (
            f"the run judged only part of phase {judged!r}"
            + (f" ({len(left)} checks not judged: {shown})" if left else "")
            + f"; pass {ALLOW_PARTIAL} to the gate to accept a partial verdict"
        )
    replayed = verdict.get("replayed_from")
    if replayed and not allow_replay:
        return (
            f"the verdict is about a replayed snapshot ({replayed}), not the account now; "
            f"pass {ALLOW_REPLAY} to the gate to accept it"
        )
    return ""


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

    Only for the plain case: the configuration at its default place or given as
    `--config=PATH`, no snapshot, no emulator handed down already. Anything else is left
    to the run, as before.
    """
    if any(arg.startswith(("--snapshot", "--help", "-h")) or arg == "--config" for arg in extra):
        return None
    base = cwd or Path.cwd()
    given = [arg.split("=", 1)[1] for arg in extra if arg.startswith("--config=")]
    path = base / given[-1] if given else base / "readiness.toml"
    try:
        config, _ = load_config(path)
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


def _snapshot_files(extra: list[str], cwd: Path | None) -> frozenset[Path]:
    """Files the run is told to read (`--snapshot=out/inventory.json`): never removed."""
    base = cwd or Path.cwd()
    found: set[Path] = set()
    for i, arg in enumerate(extra):
        if arg.startswith("--snapshot="):
            found.add((base / arg.split("=", 1)[1]).resolve())
        elif arg == "--snapshot" and i + 1 < len(extra):
            found.add((base / extra[i + 1]).resolve())
    return frozenset(found)


def prepare_report_dir(report_dir: Path, keep: frozenset[Path]) -> str:
    """Make the folder and remove the previous run's outputs; '' or why it cannot."""
    try:
        make_dirs(report_dir)
        if not report_dir.is_dir():
            return f"the report folder {report_dir} is not a folder"
        untrusted.clear(report_dir, keep)
    except OSError as exc:
        return f"the report folder {report_dir} cannot be used: {exc.strerror or exc}"
    return ""


def next_steps(report_dir: Path) -> list[str]:
    """What to run now: the rollback of a deploy this run left unfinished."""
    from deploy_steps.journal import rollback_command, unrecovered_journal

    try:
        journal = unrecovered_journal(report_dir)
    except OSError:
        return []
    return [rollback_command(journal)] if journal is not None else []


def refuse(
    report_dir: Path, phase: str, run_id: str, result: GateResult, *, final: bool = True
) -> GateResult:
    """Write the gate's own NO-GO in place of the run's outputs; say what to do next."""
    steps = next_steps(report_dir)
    refusal = untrusted.Refusal(
        run_id=run_id,
        phase=phase,
        reason=result.reason,
        process_code=result.process_code,
        claimed=result.verdict,
        next_steps=steps,
        final=final,
    )
    try:
        untrusted.write(report_dir, refusal)
    except OSError as exc:
        reason = f"{result.reason}; and the NO-GO reports cannot be written: {exc}"
        return GateResult(NO_GO, result.process_code, result.verdict, reason)
    return result


def run_phase(
    phase: str,
    env: str | None,
    report_dir: Path,
    extra: list[str],
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    allow_replay: bool = False,
) -> GateResult:
    """`environ` adds variables for the child (a go-live shares its emulator this way).

    `--allow-partial` in `extra` (the gate's own command line) accepts a partial run;
    the same flag hidden in PYTEST_ADDOPTS reaches pytest but not the gate.
    """
    run_id = uuid.uuid4().hex[:12]
    allow_partial = ALLOW_PARTIAL in extra
    problem = prepare_report_dir(report_dir, _snapshot_files(extra, cwd))
    if problem:
        return GateResult(NO_GO, NO_GO, None, problem)
    started = GateResult(NO_GO, NO_GO, None, "the run did not finish")
    refuse(report_dir, phase, run_id, started, final=False)  # the run replaces these
    child_env = dict(os.environ, **(environ or {}), READINESS_RUN_ID=run_id)
    child_env[GATE_PHASE] = gate_phase(run_id, phase)
    command = pytest_command(phase, env, report_dir, extra)
    verdict_file = report_dir / "verdict.json"

    def judged(code: int) -> GateResult:
        return judge(
            code,
            verdict_file,
            run_id,
            phase=phase,
            env=env,
            allow_partial=allow_partial,
            allow_replay=allow_replay,
        )

    try:
        if ATTACH_ENDPOINT in child_env:  # an emulator was handed down: nothing to start
            code = subprocess.run(command, env=child_env, cwd=cwd, check=False).returncode
        else:
            code = _run_with_early_emulator(command, child_env, cwd, env, extra)
    except KeyboardInterrupt:
        result = judged(NO_GO)
        if result.trusted:  # the run wrote its own NO-GO for the interrupt
            return result
        result = GateResult(NO_GO, NO_GO, result.verdict, f"interrupted; {result.reason}")
        return refuse(report_dir, phase, run_id, result)
    result = judged(code)
    if not result.trusted:
        result = refuse(report_dir, phase, run_id, result)
    return result
