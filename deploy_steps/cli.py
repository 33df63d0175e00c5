"""`readiness`: the command line around the suite (gate, emulator, deploy, go-live)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from deploy_steps.gate import PHASES, run_phase

Command = Callable[[argparse.Namespace, list[str]], int]


def _gate(args: argparse.Namespace, extra: list[str]) -> int:
    result = run_phase(args.phase, args.env, Path(args.report_dir).resolve(), extra)
    if not result.trusted:
        print(f"readiness gate: NO-GO (exit 2): {result.reason}", file=sys.stderr)
    return result.exit_code


def _watch(args: argparse.Namespace, extra: list[str]) -> int:
    from deploy_steps import watch

    return watch.run(args, extra)


def _emulator(args: argparse.Namespace, extra: list[str]) -> int:
    from readiness.emulator.__main__ import main as emulator_main

    return emulator_main(["serve", "--seed", args.seed, "--port", str(args.port)])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="readiness", description="Go/no-go gate for AWS production deployments."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gate = sub.add_parser(
        "gate",
        help="run one phase and exit with its verdict (0 GO, 1 CONDITIONAL GO, 2 NO-GO)",
        description="Runs `pytest -m PHASE` and exits with the verdict only when pytest's "
        "exit code equals verdict.json's for this run; NO-GO otherwise. Arguments after "
        "the options go to pytest.",
    )
    gate.add_argument("phase", choices=PHASES)
    gate.add_argument("--env", default=None, help="environment from readiness.toml")
    gate.add_argument("--report-dir", default="out", help="where the reports go (default: out)")
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
    emulator.add_argument("--port", type=int, default=5000)
    emulator.set_defaults(run=_emulator)
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
