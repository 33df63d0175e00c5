"""`readiness watch`: post-deploy gate rounds under the rollback decision tree.

The loop and its rules are `readiness.postdeploy.watch`; here a round is a real
`readiness gate postdeploy` run (pytest in a child process, trusted only when its exit
code matches its verdict.json). An embedded environment gets one emulator for every
round (or the one named by READINESS_EMULATOR_ENDPOINT), so what happens between rounds
is seen by the next one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from deploy_steps.gate import run_phase
from readiness.aws.access import AwsAccess
from readiness.config import ConfigError, Environment, load_config
from readiness.emulator.process import AttachedEmulator, EmulatorError, EmulatorProcess
from readiness.notify import Notifier
from readiness.postdeploy.watch import (
    RoundResult,
    RoundRunner,
    Watch,
    WatchOptions,
    parse_duration,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", default=None, help="environment from readiness.toml")
    parser.add_argument("--config", default="readiness.toml", help="configuration file")
    parser.add_argument("--report-dir", default="out", help="where the reports go (default: out)")
    parser.add_argument("--interval", default="5m", help="pause between rounds (30s, 5m, 1h)")
    parser.add_argument("--for", dest="duration", default="2h", help="how long to watch (2h)")
    parser.add_argument("--rounds", type=int, default=None, help="at most this many rounds")


def gate_rounds(env_name: str | None, config: Path, extra: list[str]) -> RoundRunner:
    def run_round(number: int, report_dir: Path) -> RoundResult:
        args = [f"--config={config}", *extra]
        result = run_phase("postdeploy", env_name, report_dir, args)
        return RoundResult(result.exit_code, result.verdict, result.reason, report_dir)

    return run_round


def _access(env: Environment, endpoint: str | None) -> AwsAccess | None:
    if env.notify.sns_topic_arn is None:
        return None
    try:
        return AwsAccess(env, endpoint_url=endpoint, read_only=True)
    except Exception as exc:  # reported by the notifier as a failed delivery
        print(f"readiness watch: no AWS access for notifications: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace, extra: list[str]) -> int:
    config_path = Path(args.config).resolve()
    report_dir = Path(args.report_dir).resolve()
    try:
        config, _ = load_config(config_path)
        env = config.environment(args.env)
        interval = parse_duration(args.interval)
        duration = parse_duration(args.duration)
    except (ConfigError, ValueError) as exc:
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
        options = WatchOptions(
            environment=env.name,
            report_dir=report_dir,
            interval_s=interval,
            for_s=duration,
            rollback_command=tuple(env.postdeploy.rollback_command),
            max_rounds=args.rounds,
            rollback_timeout_s=env.postdeploy.rollback_timeout_s,
        )
        notifier = Notifier(env, _access(env, endpoint), timeout_s=env.postdeploy.webhook_timeout_s)
        runner = gate_rounds(args.env, config_path, extra)
        watch = Watch(options, runner, notifier)
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
