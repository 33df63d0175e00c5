"""A loopback HTTP proxy in front of the emulator: a fixed delay per call, and faults.

Stdlib only, threaded. It forwards every request to one upstream (the emulator's
endpoint) and can, at set rates drawn from a seeded random generator:

- delay every call by a fixed time (a real region's round trip),
- answer with a throttling error in the protocol the service speaks (XML for the query
  and REST-XML services, JSON with `__type` for the JSON ones),
- answer 503 (a 5xx),
- reset the connection without an answer,
- hold a call for a latency spike.

    python -m bench.proxy --upstream http://127.0.0.1:PORT --delay-ms 50

prints the proxy's URL and serves until interrupted. Traffic goes only to the loopback
upstream it is given.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import final
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
)
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@final
@dataclass(frozen=True, slots=True)
class Faults:
    """Rates in [0, 1] of each fault, drawn independently per request, in this order."""

    throttle: float = 0.0
    server_error: float = 0.0
    reset: float = 0.0
    spike: float = 0.0
    spike_s: float = 1.0
    match: str = ""
    """When set, only requests whose target, path or body contain it get faults."""
    message: str = "Rate exceeded"
    """The text of the throttling and 5xx errors."""


def service_of(headers: dict[str, str]) -> str:
    """The signing name in the SigV4 credential scope ('s3', 'sqs', 'monitoring', ...)."""
    match = _SCOPE.search(headers.get("authorization", ""))
    return match.group(1) if match else ""


def _xml(text: str) -> bytes:
    return escape(text).encode()


def throttle_response(
    headers: dict[str, str], message: str = "Rate exceeded"
) -> tuple[int, dict[str, str], bytes]:
    """A throttling error the way the called service's protocol spells it."""
    content_type = headers.get("content-type", "")
    if "x-amz-target" in headers or "json" in content_type:
        body = json.dumps({"__type": "ThrottlingException", "message": message}).encode()
        return (
            400,
            {
                "Content-Type": "application/x-amz-json-1.1",
                "x-amzn-ErrorType": "ThrottlingException",
            },
            body,
        )
    if service_of(headers) == "s3":
        body = (
            b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
            b"<Message>" + _xml(message) + b"</Message></Error>"
        )
        return 503, {"Content-Type": "application/xml"}, body
    if "x-www-form-urlencoded" in content_type:
        body = (
            b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type>'
            b"<Code>Throttling</Code><Message>" + _xml(message) + b"</Message></Error>"
            b"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        )
        return 400, {"Content-Type": "text/xml"}, body
    # REST-JSON services (Lambda, WAFv2 via JSON, ...) name the error in a header.
    body = json.dumps({"message": message}).encode()
    return (
        429,
        {"Content-Type": "application/json", "x-amzn-ErrorType": "ThrottlingException"},
        body,
    )


def server_error_response(
    headers: dict[str, str], message: str = "Service unavailable"
) -> tuple[int, dict[str, str], bytes]:
    content_type = headers.get("content-type", "")
    if "x-amz-target" in headers or "json" in content_type:
        body = json.dumps({"__type": "ServiceUnavailableException", "message": message}).encode()
        return 503, {"Content-Type": "application/x-amz-json-1.1"}, body
    body = (
        b'<?xml version="1.0"?><ErrorResponse><Error><Type>Receiver</Type>'
        b"<Code>ServiceUnavailable</Code><Message>" + _xml(message) + b"</Message></Error>"
        b"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
    return 503, {"Content-Type": "text/xml"}, body


@final
class Proxy:
    """`with Proxy(upstream, delay_s=0.05) as proxy: proxy.url` serves on 127.0.0.1."""

    __slots__ = ("_lock", "_random", "_server", "_thread", "delay_s", "faults", "stats", "upstream")

    def __init__(
        self,
        upstream: str,
        *,
        delay_s: float = 0.0,
        faults: Faults | None = None,
        seed: int = 0,
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        host = parts.hostname or ""
        if not (host.startswith("127.") or host in ("localhost", "::1")):
            raise ValueError(f"{upstream}: the proxy forwards to loopback addresses only")
        self.upstream = (host, parts.port or 80)
        self.delay_s = delay_s
        self.faults = faults or Faults()
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def draw(self, request: str = "") -> str:
        """The fate of one request: 'throttle', 'server_error', 'reset', 'spike' or 'pass'."""
        faults = self.faults
        with self._lock:
            self.stats["requests"] += 1
            if faults.match and faults.match not in request:
                return "pass"
            for name, rate in (
                ("throttle", faults.throttle),
                ("server_error", faults.server_error),
                ("reset", faults.reset),
                ("spike", faults.spike),
            ):
                if rate > 0 and self._random.random() < rate:
                    self.stats[name] += 1
                    return name
            return "pass"

    def start(self) -> Proxy:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Proxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _handler(proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            target = headers.get("x-amz-target", "")
            fate = proxy.draw(f"{target} {self.path} {body.decode(errors='replace')}")
            if proxy.delay_s:
                time.sleep(proxy.delay_s)
            if fate == "reset":
                # SO_LINGER 0: close sends a TCP RST, not an orderly FIN.
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.close_connection = True
                return
            if fate == "throttle":
                self._reply(*throttle_response(headers, proxy.faults.message))
                return
            if fate == "server_error":
                self._reply(*server_error_response(headers, proxy.faults.message))
                return
            if fate == "spike":
                time.sleep(proxy.faults.spike_s)
            host, port = proxy.upstream
            upstream = http.client.HTTPConnection(host, port, timeout=120)
            try:
                upstream.request(
                    self.command,
                    self.path,
                    body=body,
                    headers={k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP},
                )
                response = upstream.getresponse()
                data = response.read()
                out = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
                self._reply(response.status, out, data)
            finally:
                upstream.close()

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__)
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--throttle", type=float, default=0.0)
    parser.add_argument("--server-error", type=float, default=0.0)
    parser.add_argument("--reset", type=float, default=0.0)
    parser.add_argument("--spike", type=float, default=0.0)
    parser.add_argument("--spike-ms", type=float, default=1000.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    faults = Faults(args.throttle, args.server_error, args.reset, args.spike, args.spike_ms / 1000)
    with Proxy(
        args.upstream, delay_s=args.delay_ms / 1000, faults=faults, seed=args.seed, port=args.port
    ) as proxy:
        print(proxy.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
