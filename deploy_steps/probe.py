"""Zero downtime: a background prober calls the health URL(s) while the phases run.

Bounded: one request per URL every `interval_s`, each with a timeout, at most
`max_probes` in all, and stopped by the deploy (or the session's end). Any failed
probe fails the "zero downtime" success metric.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import final


def fetch_status(url: str, timeout_s: float) -> int:
    """The HTTP status of a GET, or 0 when no answer came."""
    request = urllib.request.Request(url, headers={"User-Agent": "readiness-deploy"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(1024)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, ValueError):
        return 0


@final
@dataclass(slots=True)
class ProbeTally:
    probes: int = 0
    failures: int = 0
    first_failures: list[str] = field(default_factory=list)
    started: float = 0.0
    stopped: float = 0.0

    def summary(self) -> str:
        span = max(self.stopped - self.started, 0.0)
        return f"{self.probes} probe(s) over {span:.1f} s, {self.failures} failed"


@final
class Prober:
    __slots__ = (
        "_lock",
        "_stop",
        "_thread",
        "interval_s",
        "max_probes",
        "tally",
        "timeout_s",
        "urls",
    )

    def __init__(
        self,
        urls: list[str],
        *,
        interval_s: float = 0.5,
        timeout_s: float = 2.0,
        max_probes: int = 20_000,
    ) -> None:
        self.urls = list(urls)
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.max_probes = max_probes
        self.tally = ProbeTally()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.tally.started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="readiness-prober", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for url in self.urls:
                status = fetch_status(url, self.timeout_s)
                with self._lock:
                    self.tally.probes += 1
                    if not 200 <= status < 400:
                        self.tally.failures += 1
                        if len(self.tally.first_failures) < 5:
                            got = f"HTTP {status}" if status else "no answer"
                            self.tally.first_failures.append(f"{url}: {got}")
                    if self.tally.probes >= self.max_probes:
                        self._stop.set()
            self._stop.wait(self.interval_s)

    def stop(self) -> ProbeTally:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s * max(len(self.urls), 1) + 1)
        with self._lock:
            if not self.tally.stopped:
                self.tally.stopped = time.monotonic()
            return self.tally
