"""The demo audit end to end, emulator start included: `readiness gate audit --env local`.

    .venv/bin/python -m bench.demo [--runs 3]

Prints each run's wall time, the CPU time of the whole process tree (user + system), the
exit code and the load average, since on a shared machine wall time says as much about
the neighbours as about the gate.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.stack import REPO, machine, scratch

TARGET_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.demo", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--env", default="local")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    readiness = Path(sys.executable).with_name("readiness")
    walls = []
    for number in range(1, args.runs + 1):
        out = scratch("demo-")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        completed = subprocess.run(
            [str(readiness), "gate", "audit", "--env", args.env, f"--report-dir={out}"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        walls.append(wall)
        print(
            f"run {number}: {wall:6.2f} s wall, {cpu:6.2f} s CPU (process tree), "
            f"exit {completed.returncode}, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    best = min(walls)
    print(f"best {best:.2f} s; target {TARGET_S:.0f} s: {'met' if best < TARGET_S else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
