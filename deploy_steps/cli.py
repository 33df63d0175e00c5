"""`readiness`: the command line around the suite (gate, emulator, deploy, go-live)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from deploy_steps.gate import ALLOW_PARTIAL, PHASES, next_steps, run_phase

Command = Callable[[argparse.Namespace, list[str]], int]


# The gate's own options that the pytest run takes too (`--name=value`, paths absolute).
_PASSED_ON = ("config", "checks", "waivers", "snapshot", "window", "profile")
_PATHS = ("config", "checks", "waivers", "snapshot")


def _passed_on(args: argparse.Namespace) -> list[str]:
    passed: list[str] = []
    for name in _PASSED_ON:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name in _PATHS:
            value = str(Path(value).resolve())
        passed.append(f"--{name}={value}")
    return passed


def _gate(args: argparse.Namespace, extra: list[str]) -> int:
    extra = [*_passed_on(args), *extra]
    if args.allow_partial:
        extra = [ALLOW_PARTIAL, *extra]
    report_dir = Path(args.report_dir).resolve()
    result = run_phase(args.phase, args.env, report_dir, extra, allow_replay=args.allow_replay)
    if not result.trusted:
        print(f"readiness gate: NO-GO (exit 2): {result.reason}", file=sys.stderr)
    for step in next_steps(report_dir):
        print(
            f"readiness gate: a deploy was left unfinished; roll it back: {step}", file=sys.stderr
        )
    return result.exit_code


def _watch(args: argparse.Namespace, extra: list[str]) -> int:
    from deploy_steps import watch

    return watch.run(args, extra)


def _emulator(args: argparse.Namespace, extra: list[str]) -> int:
    from readiness.emulator.__main__ import main as emulator_main
    from readiness.emulator.seeds import SEEDS

    if args.seed not in SEEDS:
        print(
            f"readiness emulator: --seed: {args.seed!r} is not a seed ({', '.join(SEEDS)})",
            file=sys.stderr,
        )
        return 2
    return emulator_main(
        ["serve", "--seed", args.seed, f"--port={args.port}"], prog="readiness emulator"
    )


def _go_live(args: argparse.Namespace, extra: list[str]) -> int:
    from deploy_steps.golive import GoLiveOptions, go_live
    from readiness.duration import DurationError, option_duration

    try:
        monitor = option_duration("--monitor", args.monitor) / 60 if args.monitor else None
        interval = (
            option_duration("--monitor-interval", args.monitor_interval) / 60
            if args.monitor_interval
            else None
        )
    except DurationError as exc:
        print(f"readiness go-live: NO-GO (exit 2): {exc}", file=sys.stderr)
        return 2
    if args.accept_risks and not (args.accepted_by or "").strip():
        print("readiness go-live: --accept-risks needs --accepted-by NAME", file=sys.stderr)
        return 2
    options = GoLiveOptions(
        env=args.env,
        config=Path(args.config),
        out=Path(args.out),
        accept_risks=args.accept_risks,
        accepted_by=(args.accepted_by or "").strip() or None,
        monitor_minutes=monitor,
        monitor_interval_minutes=interval,
        resume=args.resume,
        stop_after=args.stop_after,
        simulate_failure=args.simulate_failure,
        interactive=sys.stdin.isatty() and sys.stdout.isatty() and not args.no_input,
    )
    return go_live(options)


def _add_go_live(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from deploy_steps.golive.flow import FAULTS
    from deploy_steps.golive.resume import ORDER

    go = sub.add_parser(
        "go-live",
        help="the whole flowchart: preflight, audit, decision, deploy, validations, "
        "rollback or monitoring (exit 0 deployed, 1 deployed with accepted risks, 2 stopped)",
        description="Runs every stage as its own gated pytest session, writes "
        "out/go-live/<UTC stamp>/ (state.json, timeline.html, one report folder per stage) "
        "and, on a rollback, out/incidents/<UTC stamp>.md. See docs/runbook.md.",
    )
    go.add_argument("--env", default=None, help="environment from readiness.toml")
    go.add_argument("--config", default="readiness.toml", help="configuration file")
    go.add_argument("--out", default="out", help="output folder (default: out)")
    go.add_argument(
        "--accept-risks",
        action="store_true",
        help="on CONDITIONAL GO, accept the warnings no waiver covers (needs --accepted-by)",
    )
    go.add_argument("--accepted-by", default=None, help="who accepts the risks (for the record)")
    go.add_argument(
        "--monitor",
        default=None,
        help="after success, run post-deploy rounds for this long (2h, 1h30m, or seconds)",
    )
    go.add_argument(
        "--monitor-interval", default=None, help="time between monitoring rounds (default 5m)"
    )
    go.add_argument("--resume", action="store_true", help="continue the latest interrupted go-live")
    go.add_argument(
        "--stop-after",
        choices=ORDER[:5],
        default=None,
        help="stop after this stage, resumable with --resume (audit now, deploy later)",
    )
    go.add_argument(
        "--simulate-failure",
        choices=FAULTS,
        default=None,
        help="embedded emulator only: break the demo application before the deploy so a "
        "phase-4 validation fails and the rollback runs",
    )
    go.add_argument("--no-input", action="store_true", help="never ask, even in a terminal")
    go.set_defaults(run=_go_live)


def _rollback(args: argparse.Namespace, extra: list[str]) -> int:
    from deploy_steps.rollback_cli import rollback_command

    return rollback_command(Path(args.journal), dry_run=args.dry_run)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("readiness")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="readiness", description="Go/no-go gate for AWS production deployments."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    gate = sub.add_parser(
        "gate",
        help="run one phase and exit with its verdict (0 GO, 1 CONDITIONAL GO, 2 NO-GO)",
        description="Runs `pytest -m PHASE` and exits with the verdict only when pytest's "
        "exit code equals verdict.json's for this run; NO-GO otherwise. Works from any "
        "folder. Other arguments go to pytest (they make the run partial).",
    )
    gate.add_argument("phase", choices=PHASES)
    gate.add_argument("--env", default=None, help="environment from readiness.toml")
    gate.add_argument(
        "--config", default=None, help="configuration file (default: ./readiness.toml)"
    )
    gate.add_argument("--report-dir", default="out", help="where the reports go (default: out)")
    gate.add_argument(
        "--checks",
        default=None,
        help="the checks folder (default: checks/ beside --config when it has a "
        "catalogue.json, else the checks installed with readiness)",
    )
    gate.add_argument(
        "--waivers", default=None, help="waiver file (default: waivers.toml beside the config)"
    )
    gate.add_argument(
        "--profile",
        default=None,
        help="AWS profile to use instead of the environment's (empty: the ambient "
        "credentials; also READINESS_PROFILE)",
    )
    gate.add_argument(
        "--window", default=None, help="postdeploy: the window judged, 2h or 24h (default 2h)"
    )
    gate.add_argument(
        "--snapshot",
        default=None,
        help="judge a saved inventory.json instead of the account (needs --allow-replay "
        "for a GO)",
    )
    gate.add_argument(
        ALLOW_PARTIAL,
        dest="allow_partial",
        action="store_true",
        help="accept a verdict on part of the phase (-k, -m, -o, a skipped folder...); every "
        "output then says which checks were judged and which were not",
    )
    gate.add_argument(
        "--allow-replay",
        dest="allow_replay",
        action="store_true",
        help="accept a verdict on a replayed --snapshot (the account as it was then, not now)",
    )
    gate.set_defaults(run=_gate)
    watch = sub.add_parser(
        "watch",
        help="repeat the postdeploy gate; roll back on a critical failure (0/1/2 as a gate)",
        description="Runs `readiness gate postdeploy` every --interval for --for, keeps "
        "watch.html/json/md accumulating in the report folder, runs the environment's "
        "[postdeploy] rollback_command on a critical failure and notifies. Arguments after "
        "the options go to pytest (e.g. --window=24h).",
    )
    from deploy_steps import watch as watch_module

    watch_module.add_arguments(watch)
    watch.set_defaults(run=_watch)
    emulator = sub.add_parser("emulator", help="serve the embedded local AWS alone")
    emulator.add_argument("--seed", default="demo")
    emulator.add_argument("--port", default="5000", help="0 picks a free port (default: 5000)")
    emulator.set_defaults(run=_emulator)
    rollback = sub.add_parser(
        "rollback",
        help="finish a deploy's rollback from its journal (exit 0 restored, 2 otherwise)",
        description="Reverts every journalled change to its value before the deploy and "
        "runs terraform destroy when destroy_on_rollback says so. Safe to run twice. Exit 0 "
        "when the state is the journalled one (or there was nothing to do), 2 otherwise.",
    )
    rollback.add_argument("--journal", required=True, help="deploy-journal.json of the deploy")
    rollback.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    rollback.set_defaults(run=_rollback)
    _add_go_live(sub)
    from deploy_steps import policy_cli

    policy_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("gate", "watch"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    run: Command = args.run
    return run(args, extra)


if __name__ == "__main__":
    sys.exit(main())
