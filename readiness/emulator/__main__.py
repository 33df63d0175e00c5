"""`python -m readiness.emulator serve --seed demo --port 5000`: the local AWS, alone."""

from __future__ import annotations

import argparse
import re
import sys

from readiness.emulator.seeds import SEEDS

PROG = "python -m readiness.emulator serve"
HIGHEST_PORT = 65535


def port_number(text: str) -> int:
    """A TCP port from the command line: a whole number from 0 (any free port) to 65535.
    Anything else is refused: the socket layer would otherwise pick some other port."""
    value = text.strip()
    if re.fullmatch(r"[+-]?[0-9]{1,12}", value) is None:
        raise ValueError(f"{text!r} is not a port number (a whole number from 0 to 65535)")
    port = int(value)
    if not 0 <= port <= HIGHEST_PORT:
        raise ValueError(f"{port} is out of range (a port is a number from 0 to 65535)")
    return port


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    parser = argparse.ArgumentParser(prog="python -m readiness.emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve moto with the readiness extensions and a seed")
    serve.add_argument("--seed", choices=SEEDS, default="demo")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", default="0", help="0 picks a free port")
    serve.add_argument("--app-port", default="0", help="port of the demo application")
    serve.add_argument("--watch-stdin", action="store_true", help="stop when standard input closes")
    serve.add_argument(
        "--regions", default="", help="comma-separated regions to serve beyond the demo's two"
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the emulator only listens on loopback")
    ports: dict[str, int] = {}
    for option, given in (("--port", args.port), ("--app-port", args.app_port)):
        try:
            ports[option] = port_number(str(given))
        except ValueError as exc:
            print(f"{prog}: {option}: {exc}", file=sys.stderr)
            return 2
    from readiness.emulator.server import serve as run

    return run(
        args.seed,
        host=args.host,
        port=ports["--port"],
        app_port=ports["--app-port"],
        watch_stdin=args.watch_stdin,
        regions=tuple(r for r in args.regions.split(",") if r),
    )


if __name__ == "__main__":
    sys.exit(main())
