"""`python -m readiness.emulator serve --seed demo --port 5000`: the local AWS, alone."""

from __future__ import annotations

import argparse
import sys

from readiness.emulator.seeds import SEEDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m readiness.emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve moto with the readiness extensions and a seed")
    serve.add_argument("--seed", choices=SEEDS, default="demo")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--app-port", type=int, default=0, help="port of the demo application")
    serve.add_argument("--watch-stdin", action="store_true", help="stop when standard input closes")
    serve.add_argument(
        "--regions", default="", help="comma-separated regions to serve beyond the demo's two"
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the emulator only listens on loopback")
    from readiness.emulator.server import serve as run

    return run(
        args.seed,
        host=args.host,
        port=args.port,
        app_port=args.app_port,
        watch_stdin=args.watch_stdin,
        regions=tuple(r for r in args.regions.split(",") if r),
    )


if __name__ == "__main__":
    sys.exit(main())
