"""The emulator process: moto's server with our extensions, the demo app, a seed.

Prints one JSON line on stdout when it is ready to serve (endpoint, app URL, seed),
then serves until it is told to stop: SIGTERM, SIGINT, or (with `watch_stdin`) the end
of its standard input, which is how it dies with a parent that was killed outright.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any

from readiness.emulator.app import DemoApp
from readiness.emulator.control import EMULATOR_ACCOUNT
from readiness.emulator.registry import Registry

# moto loads EC2 instance-type offerings for every region when EC2 is first imported
# (ECS, RDS and ELBv2 import it too): about a second of JSON this emulator never serves.
OFFERINGS = "instance_type_offerings"


def serve_only_regions(regions: frozenset[str]) -> None:
    """Load moto's per-region EC2 offerings only for these regions (before moto.ec2)."""
    import moto.utilities.utils as moto_utils

    load = moto_utils.load_resource

    def load_resource(resource: str) -> Any:
        if OFFERINGS in resource:
            region = resource.rsplit("/", 1)[-1].split(".", 1)[0]
            if region not in regions:
                return []
        return load(resource)

    moto_utils.load_resource = load_resource


def build_registry() -> Registry:
    from readiness.emulator.extensions import ALL

    registry = Registry()
    registry.install(ALL)
    return registry


def serve(
    seed: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    app_port: int = 0,
    watch_stdin: bool = False,
    regions: tuple[str, ...] = (),
) -> int:
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from readiness.emulator.seeds import REGIONS, apply_seed

    started = time.perf_counter()
    serve_only_regions(frozenset([*REGIONS, *regions]))
    registry = build_registry()
    moto_app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        host, port, registry.wsgi(moto_app), threaded=True, request_handler=MotoRequestHandler
    )
    endpoint = f"http://{host}:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="moto")
    thread.start()
    app = DemoApp()
    app_url = app.start(host, app_port)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if watch_stdin:

        def watch() -> None:
            sys.stdin.read()  # returns at EOF: the parent has gone
            stop.set()

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    try:
        summary = apply_seed(seed, endpoint, app_url)
    except Exception as exc:
        print(json.dumps({"ready": False, "error": f"seed {seed!r} failed: {exc}"}), flush=True)
        server.shutdown()
        return 1
    ready = {
        "ready": True,
        "endpoint": endpoint,
        "app_url": app_url,
        "seed": seed,
        "account": EMULATOR_ACCOUNT,
        "extensions": registry.installed,
        "seeded": summary,
        "startup_s": round(time.perf_counter() - started, 3),
        "pid": os.getpid(),
    }
    print(json.dumps(ready), flush=True)
    stop.wait()
    # Nothing to save: the state lives only in this process. Leave at once rather than
    # wait for each server's poll loop (0.5 s each) and for the interpreter to tear down
    # every moto backend (another second), time a gate would spend after its verdict.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
