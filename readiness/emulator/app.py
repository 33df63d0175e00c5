"""The demo stack's application on loopback: a health endpoint and a rate-limited API.

It stands in for the service behind the load balancer, so the rate-limiter test,
the zero-downtime probe and the canaries have a real HTTP server to talk to.
`POST /_control` flips its health or its rate limit for tests.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, final

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


@final
class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up."""

    __slots__ = ("_lock", "_stamp", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


@final
class DemoApp:
    def __init__(self, rate_per_second: float = 10, burst: float = 10) -> None:
        self.healthy = True
        self.limiter: TokenBucket | None = TokenBucket(rate_per_second, burst)
        self.requests = 0
        self.throttled = 0
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._route(request)
        return response(environ, start_response)

    def _json(self, data: Any, status: int = 200, **headers: str) -> Response:
        return Response(
            json.dumps(data), status=status, content_type="application/json", headers=headers
        )

    def _route(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
        if request.path == "/health":
            if self.healthy:
                return self._json({"status": "ok"})
            return self._json({"status": "down"}, status=503)
        if request.path.startswith("/api/"):
            if not self.healthy:
                return self._json({"error": "unavailable"}, status=503)
            limiter = self.limiter
            if limiter is not None and not limiter.take():
                with self._lock:
                    self.throttled += 1
                return self._json({"error": "rate limited"}, status=429, **{"Retry-After": "1"})
            return self._json({"pong": True})
        if request.path == "/_control" and request.method == "POST":
            payload = request.get_json(force=True, silent=True) or {}
            if "healthy" in payload:
                self.healthy = bool(payload["healthy"])
            if "rate_limit" in payload:
                limit = payload["rate_limit"]
                self.limiter = None if limit is None else TokenBucket(float(limit), float(limit))
            return self._json(self.status())
        if request.path == "/_control":
            return self._json(self.status())
        return self._json({"error": "not found"}, status=404)

    def status(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "rate_limit": None if self.limiter is None else self.limiter.rate,
            "requests": self.requests,
            "throttled": self.throttled,
        }

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = make_server(host, port, self, threaded=True)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="demo-app")
        thread.start()
        return f"http://{host}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
