"""Peer: Readiness and Prowler side by side on the same emulator, the same planted defects.

    .venv/bin/python -m bench.peer [--seed demo-broken] [--services sqs dynamodb rds ...]

Installs Prowler into its own virtualenv, ~/.cache/readiness-bench/prowler (or
$READINESS_PROWLER_VENV), on first use (pip, from the package registry: the only time
this benchmark reaches beyond loopback); if that fails it says so and exits 1.
Then it starts the emulator with the seed, runs our audit attached to it and Prowler
with AWS_ENDPOINT_URL pointing at it, on the services both cover, and prints the wall
time of each and which resources each flags.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path
from typing import Any

from bench.stack import REPO, machine, scratch
from readiness.emulator import EmulatorProcess

# Outside the working tree: a virtualenv of thousands of files under the repository
# slowed every pytest start there (and broke a timing-sensitive selftest).
PROWLER_VENV = Path(
    os.environ.get("READINESS_PROWLER_VENV", Path.home() / ".cache" / "readiness-bench" / "prowler")
)
PROWLER = PROWLER_VENV / "bin" / "prowler"
SERVICES = ("sqs", "dynamodb", "rds", "ecs", "awslambda", "elbv2", "cloudwatch", "backup", "wafv2")
REGIONS = ("us-east-1", "us-west-2")
ENV_OF_SEED = {"demo": "local", "demo-risky": "local-risky", "demo-broken": "local-broken"}


def ensure_prowler() -> bool:
    if PROWLER.exists():
        return True
    print(f"installing Prowler into {PROWLER_VENV} (pip, package registry) ...", flush=True)
    try:
        venv.create(PROWLER_VENV, with_pip=True)
        subprocess.run(
            [str(PROWLER_VENV / "bin" / "pip"), "install", "--quiet", "prowler"],
            check=True,
            timeout=1800,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"Prowler could not be installed: {exc}", file=sys.stderr)
        return False
    return PROWLER.exists()


def run_ours(emulator: EmulatorProcess, seed: str, out: Path) -> tuple[float, dict[str, Any]]:
    env = dict(os.environ, **emulator.attach_environment())
    env.pop("PYTEST_ADDOPTS", None)
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--tb=line",
        "-m", "audit", "--env", ENV_OF_SEED[seed], f"--report-dir={out}",
    ]  # fmt: skip
    started = time.perf_counter()
    with (out / "terminal.txt").open("w") as terminal:
        subprocess.run(
            command, cwd=REPO, env=env, stdout=terminal, stderr=subprocess.STDOUT, check=False
        )
    wall = time.perf_counter() - started
    return wall, json.loads((out / "verdict.json").read_text())


def run_prowler(
    emulator: EmulatorProcess, services: list[str], out: Path, timeout_s: float
) -> tuple[float, int, list[dict[str, Any]], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=emulator.endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    command = [
        str(PROWLER_VENV / "bin" / "python"), str(PROWLER),
        "aws", "--no-banner", "-z", "-M", "json-ocsf",
        "-o", str(out), "-F", "prowler", "--services", *services, "--region", *REGIONS,
    ]  # fmt: skip
    started = time.perf_counter()
    try:
        with (out / "prowler-terminal.txt").open("w") as terminal:
            completed = subprocess.run(
                command,
                env=env,
                stdout=terminal,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                check=False,
            )
        code = completed.returncode
    except subprocess.TimeoutExpired:
        code = -1
    wall = time.perf_counter() - started
    findings: list[dict[str, Any]] = []
    for path in out.glob("prowler*.ocsf.json"):
        with contextlib.suppress(ValueError):
            findings += json.loads(path.read_text())
    tail = (out / "prowler-terminal.txt").read_text(errors="replace")[-1500:]
    return wall, code, findings, tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__)
    parser.add_argument("--seed", default="demo-broken", choices=sorted(ENV_OF_SEED))
    parser.add_argument("--services", nargs="+", default=list(SERVICES))
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args(argv)
    if not ensure_prowler():
        print("Prowler is not available: no peer comparison was made.", file=sys.stderr)
        return 1
    print(f"machine: {machine()}", flush=True)
    out = scratch(f"peer-{args.seed}-")
    with EmulatorProcess.start(args.seed) as emulator:
        ours_s, verdict = run_ours(emulator, args.seed, out)
        prowler_s, code, findings, tail = run_prowler(emulator, args.services, out, args.timeout)
    our_failed = sorted(
        {
            f"{r.get('check_id')} {r.get('resource')}"
            for r in verdict.get("results", [])
            if r.get("outcome") in ("failed", "not-evaluated", "error")
        }
    )
    their_failed = sorted(
        {
            f"{f.get('metadata', {}).get('event_code')} "
            f"{(f.get('resources') or [{}])[0].get('uid', '')}"
            for f in findings
            if f.get("status_code") == "FAIL"
        }
    )
    report = {
        "seed": args.seed,
        "services": args.services,
        "ours": {"wall_s": round(ours_s, 2), "verdict": verdict.get("verdict"),
                 "flagged": our_failed},
        "prowler": {"wall_s": round(prowler_s, 2), "exit": code, "findings": len(findings),
                    "flagged": their_failed},
        "speedup": round(prowler_s / ours_s, 2) if ours_s else None,
        "out": str(out),
    }  # fmt: skip
    (out / "peer.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    print(f"--- Prowler's output ends:\n{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
