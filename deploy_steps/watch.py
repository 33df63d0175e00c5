"""`readiness watch`: post-deploy gate rounds under the rollback decision tree.

The loop is the monitoring engine `readiness.postdeploy.watch` and its rules the table
of `readiness.postdeploy.decide`, the same as `readiness go-live --monitor`; here a round
is a real `readiness gate postdeploy` run (pytest in a child process, trusted only when
its exit code matches its verdict.json), the rollback is the environment's
`[postdeploy] rollback_command`, and a rollback's incident record goes to
`<report-dir>/incidents/`. An embedded environment gets one emulator for every round
(or the one named by READINESS_EMULATOR_ENDPOINT), so what happens between rounds is
seen by the next one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from deploy_steps.gate import run_phase
from deploy_steps.golive import monitoring
from readiness.config import ConfigError, load_config
from readiness.duration import DurationError, option_duration
from readiness.emulator.process import AttachedEmulator, EmulatorError, EmulatorProcess
from readiness.postdeploy.watch import (
    RoundRecord,
    RoundResult,
    RoundRunner,
    Watch,
    WatchOptions,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=None, help="environment from readiness.toml")
    parser.add_argument("--config", default="readiness.toml", help="configuration file")
    parser.add_argument("--report-dir", default="out", help="where the reports go (default: out)")
    parser.add_argument(
        "--interval", default="5m", help="pause between rounds (90s, 5m, 1h30m, or seconds)"
    )
    parser.add_argument(
        "--for", dest="duration", default="2h", help="how long to watch (2h, 1h30m, 5400)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="at most this many rounds")


def gate_rounds(env_name: str | None, config: Path, extra: list[str]) -> RoundRunner:
    def run_round(number: int, report_dir: Path) -> RoundResult:
        args = [f"--config={config}", *extra]
        result = run_phase("postdeploy", env_name, report_dir, args)
        return RoundResult(result.exit_code, result.verdict, result.reason, report_dir)

    return run_round


def _progress(line: str) -> None:
    print(f"readiness watch: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, extra: list[str], runner: RoundRunner | None = None) -> int:
    """The command; `runner` replaces the gate rounds (the engine's tests script them)."""
    config_path = Path(args.config).resolve()
    report_dir = Path(args.report_dir).resolve()
    try:
        interval = option_duration("--interval", args.interval)
        duration = option_duration("--for", args.duration)
        config, _ = load_config(config_path)
        env = config.environment(args.env)
    except (ConfigError, DurationError) as exc:
        print(f"readiness watch: NO-GO (exit 2): {exc}", file=sys.stderr)
        return 2
    if args.rounds is not None and args.rounds < 1:
        print("readiness watch: NO-GO (exit 2): --rounds must be at least 1", file=sys.stderr)
        return 2
    emulator: EmulatorProcess | None = None
    endpoint = env.endpoint_url
    if env.emulator is not None:
        attached = AttachedEmulator.from_environment()
        if attached is None:
            try:
                emulator = EmulatorProcess.start(env.emulator.seed, regions=tuple(env.regions))
            except EmulatorError as exc:
                print(f"readiness watch: NO-GO (exit 2): {exc}", file=sys.stderr)
                return 2
            os.environ.update(emulator.attach_environment())
            endpoint = emulator.endpoint
        else:
            endpoint = attached.endpoint
    try:
        label = " ".join(
            monitoring.fill_in(
                env.postdeploy.rollback_command,
                {"{report_dir}": str(report_dir), "{env}": env.name},
            )
        )
        options = WatchOptions(
            environment=env.name,
            report_dir=report_dir,
            interval_s=interval,
            for_s=duration,
            rollback_command=monitoring.rollback_argv(
                env.postdeploy.rollback_command, report_dir, env.name
            ),
            max_rounds=args.rounds,
            rollback_timeout_s=env.postdeploy.rollback_timeout_s,
            limits=monitoring.limits_of(env),
        )
        watch: Watch

        def write_incident(record: RoundRecord) -> str:
            path = monitoring.write_incident(
                report_dir / "incidents",
                env,
                env.emulated,
                f"readiness watch (`{report_dir / 'watch.html'}`)",
                watch,
                record,
                label,
            )
            print(f"readiness watch: incident record {path}", file=sys.stderr)
            return str(path)

        watch = Watch(
            options,
            runner or gate_rounds(args.env, config_path, extra),
            monitoring.notifier_for(env, endpoint),
            incident=write_incident,
            progress=_progress,
            rollback_label=label,
        )
        code = watch.run()
        print(
            f"readiness watch: {watch.state.value} after {len(watch.rounds)} rounds "
            f"({watch.stopped_by}); report {report_dir / 'watch.html'}",
            file=sys.stderr,
        )
        return code
    finally:
        if emulator is not None:
            for key in emulator.attach_environment():
                os.environ.pop(key, None)
            emulator.stop()
