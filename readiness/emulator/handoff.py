"""Starting the emulator beside pytest's own start-up, and handing it over.

pytest needs about a second of CPU (interpreter, plugins, options, conftests) before it
asks for the emulator, and the emulator needs several to start and seed. The gate starts
both at once: it names a hand-off file in READINESS_EMULATOR_PENDING, starts the
emulator, and writes the file (whole, by rename) with the emulator's address or the
reason it did not start. The run waits for that file, bounded, and gives up at once if
the gate has gone. The run checks the seed and regions it was handed against its own
configuration, so a wrong guess by the gate costs time, never a wrong target.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from readiness.emulator.process import AttachedEmulator, EmulatorError, EmulatorProcess
from readiness.files import write_json

PENDING = "READINESS_EMULATOR_PENDING"
WAIT_S = 120.0  # the emulator's own start-up timeout is 90 s
_POLL_S = 0.02


def pending_path(environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    value = env.get(PENDING)
    return Path(value) if value else None


def hand_over(
    path: Path, emulator: EmulatorProcess | AttachedEmulator, regions: tuple[str, ...]
) -> None:
    """Publish a started emulator."""
    write_json(
        path,
        {
            "endpoint": emulator.endpoint,
            "app_url": emulator.app_url,
            "seed": emulator.seed,
            "regions": list(regions),
        },
    )


def hand_over_nothing(path: Path) -> None:
    """The run starts its own emulator if it wants one."""
    write_json(path, {"nothing": True})


def hand_over_failure(path: Path, reason: str) -> None:
    write_json(path, {"error": reason})


def await_handover(
    path: Path, seed: str, regions: tuple[str, ...], wait_s: float = WAIT_S
) -> AttachedEmulator | None:
    """The handed emulator; None when there is none or it was started for another seed
    or other regions (the caller starts its own). Raises EmulatorError when it did not
    start, when the gate has gone, or when nothing came within `wait_s`."""
    parent = os.getppid()
    deadline = time.monotonic() + wait_s
    while not path.exists():
        if os.getppid() != parent:
            raise EmulatorError("the process starting the emulator has gone")
        if time.monotonic() > deadline:
            raise EmulatorError(f"no emulator was handed over within {wait_s:.0f} s")
        time.sleep(_POLL_S)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EmulatorError(f"unreadable emulator hand-off {path}: {exc}") from None
    if not isinstance(info, dict):
        raise EmulatorError(f"unreadable emulator hand-off {path}: not an object")
    if info.get("nothing") is True:
        return None
    if "error" in info:
        raise EmulatorError(str(info["error"]))
    endpoint, app_url, handed_seed = info.get("endpoint"), info.get("app_url"), info.get("seed")
    if not (
        isinstance(endpoint, str) and isinstance(app_url, str) and isinstance(handed_seed, str)
    ):
        raise EmulatorError(f"unreadable emulator hand-off {path}: fields missing")
    if handed_seed != seed or not set(regions) <= set(info.get("regions") or ()):
        return None
    return AttachedEmulator(str(endpoint), str(app_url), str(handed_seed))
