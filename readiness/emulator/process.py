"""Starting and stopping the emulator as a child process, with no orphan left behind."""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any, final

ATTACH_ENDPOINT = "READINESS_EMULATOR_ENDPOINT"
ATTACH_APP_URL = "READINESS_EMULATOR_APP_URL"
ATTACH_SEED = "READINESS_EMULATOR_SEED"


class EmulatorError(Exception):
    """The emulator did not start."""


@final
class AttachedEmulator:
    """An emulator some other process runs (a go-live or deploy stage shares one).

    Named by READINESS_EMULATOR_ENDPOINT (and _APP_URL, _SEED); stopping it is a no-op.
    """

    __slots__ = ("app_url", "endpoint", "seed")

    def __init__(self, endpoint: str, app_url: str, seed: str) -> None:
        self.endpoint = endpoint
        self.app_url = app_url
        self.seed = seed

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> AttachedEmulator | None:
        env = dict(os.environ) if environ is None else environ
        endpoint = env.get(ATTACH_ENDPOINT)
        if not endpoint:
            return None
        return cls(endpoint, env.get(ATTACH_APP_URL, ""), env.get(ATTACH_SEED, "attached"))

    def stop(self) -> None:
        """Not ours to stop."""

    def attach_environment(self) -> dict[str, str]:
        """Variables that make a child pytest session use this emulator."""
        return {
            ATTACH_ENDPOINT: self.endpoint,
            ATTACH_APP_URL: self.app_url,
            ATTACH_SEED: self.seed,
        }


def _moto_installed() -> bool:
    try:
        return importlib.util.find_spec("moto") is not None
    except ImportError:
        return False


@final
class EmulatorProcess:
    __slots__ = ("_log", "app_url", "endpoint", "info", "process", "seed")

    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any], log: IO[str]) -> None:
        self.process = process
        self.info = info
        self.endpoint: str = info["endpoint"]
        self.app_url: str = info["app_url"]
        self.seed: str = info["seed"]
        self._log = log

    @classmethod
    def start(
        cls,
        seed: str,
        *,
        timeout_s: float = 90.0,
        log_dir: Path | None = None,
        regions: tuple[str, ...] = (),
    ) -> EmulatorProcess:
        """Start the emulator, seeded, and wait until it serves; `regions` beyond the
        demo's two are the ones whose EC2 offerings it must load."""
        if not _moto_installed():
            raise EmulatorError(
                "the embedded local AWS needs moto's server, which this installation "
                "lacks: pip install 'readiness[emulator]' (or audit an endpoint_url or a "
                "real account)"
            )
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            "w+", prefix="readiness-emulator-", suffix=".log", dir=log_dir, delete=True
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["PYTHONUNBUFFERED"] = "1"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "readiness.emulator",
                "serve",
                "--seed",
                seed,
                "--port",
                "0",
                "--watch-stdin",
                "--regions",
                ",".join(regions),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
        try:
            info = cls._await_ready(process, timeout_s)
        except BaseException as exc:
            cls._terminate(process)
            log.seek(0)
            tail = log.read()[-2000:]
            log.close()
            if tail:
                raise EmulatorError(
                    f"the emulator did not start ({exc}); its log ends:\n{tail}"
                ) from None
            raise
        return cls(process, info, log)

    @staticmethod
    def _await_ready(process: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise EmulatorError(f"the emulator was not ready within {timeout_s:.0f} s")
                if not selector.select(timeout=min(left, 0.5)):
                    if process.poll() is not None:
                        raise EmulatorError(f"the emulator exited with {process.returncode}")
                    continue
                line = process.stdout.readline()
                if not line:
                    raise EmulatorError(f"the emulator exited with {process.wait(5)}")
                try:
                    info = json.loads(line)
                except ValueError:
                    continue
                if not info.get("ready"):
                    raise EmulatorError(str(info.get("error", "the emulator failed")))
                return dict(info)

    @staticmethod
    def _terminate(process: subprocess.Popen[str]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self._terminate(self.process)
        self._log.close()

    def attach_environment(self) -> dict[str, str]:
        """Variables that make a child pytest session use this emulator."""
        return AttachedEmulator(self.endpoint, self.app_url, self.seed).attach_environment()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
