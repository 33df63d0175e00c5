"""Scale: the audit on generated stacks of 100, 1,000 and 5,000 resources.

    .venv/bin/python -m bench.scale [--sizes 100,1000,5000] [--delay-ms 0]

For each size: start the emulator (`empty` seed), populate it (bench/stack.py), run
`pytest -m audit` attached to it, and print wall time, API calls, distinct requests,
their ratio (must be 1.00), peak memory of the pytest process tree, and seconds and
calls per resource, so linear growth shows. With --delay-ms every AWS call goes through
the loopback proxy (bench/proxy.py) with that fixed delay.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import Any

from bench.proxy import Proxy
from bench.stack import emulator, machine, populate, run_audit, scratch


def measure(size: int, delay_ms: float, parallelism: int) -> dict[str, Any]:
    with ExitStack() as stack:
        emu = stack.enter_context(emulator())
        made, seed_s = populate(emu.endpoint, size)
        endpoint = emu.endpoint
        proxy = None
        if delay_ms:
            proxy = stack.enter_context(Proxy(emu.endpoint, delay_s=delay_ms / 1000))
            endpoint = proxy.url
        run = run_audit(endpoint, scratch(f"scale-{size}-"), parallelism=parallelism)
    row: dict[str, Any] = {
        "resources": sum(made.values()),
        "made": dict(made),
        "seed_s": round(seed_s, 1),
        "wall_s": round(run.wall_s, 2),
        "cpu_s": round(run.cpu_s, 2),
        "calls": run.calls,
        "distinct": run.distinct,
        "ratio": round(run.ratio, 2),
        "repeated": run.repeated,
        "max_rss_mib": round(run.max_rss_mib, 1),
        "results": run.results,
        "verdict": run.verdict,
        "exit": run.returncode,
        "delay_ms": delay_ms,
        "parallelism": parallelism,
        "out": str(run.out),
    }
    if delay_ms:
        row["model_s"] = round(run.calls * delay_ms / 1000 / parallelism, 2)
        row["proxied_requests"] = proxy.stats["requests"] if proxy else 0
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--parallelism", type=int, default=16)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    print(
        "(CPU: user + system of the pytest process tree; on a shared machine the steadier figure)"
    )
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.delay_ms, args.parallelism)
        rows.append(row)
        per = row["wall_s"] / max(row["resources"], 1) * 1000
        print(
            f"{row['resources']:>6} resources  seed {row['seed_s']:>6.1f} s"
            f"  audit {row['wall_s']:>7.2f} s wall {row['cpu_s']:>6.1f} s CPU"
            f"  ({per:.1f} ms/resource)  calls {row['calls']:>6}  distinct {row['distinct']:>6}"
            f"  ratio {row['ratio']:.2f}  peak RSS {row['max_rss_mib']:.0f} MiB"
            f"  results {row['results']}  {row['verdict']}"
            + (f"  model {row['model_s']} s" if args.delay_ms else ""),
            flush=True,
        )
    print(json.dumps(rows, indent=1))
    bad = [r for r in rows if r["ratio"] != 1.0 or r["exit"] not in (0, 1, 2)]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
