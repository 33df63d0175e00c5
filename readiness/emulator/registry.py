"""How the emulator adds what moto lacks: WSGI routes in front of moto, and control calls.

An extension module exposes `install(registry)`. It may add a route for an AWS
operation moto does not serve (matched before moto sees the request), a control call
under `/_readiness/<name>` that seeds and tests use to plant data moto cannot take
through its API, and patches to moto's own models. Extension state lives in
`registry.state`, one object per emulator process, cleared with moto's reset.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, final

from werkzeug.wrappers import Request, Response

Handler = Callable[[Request, "re.Match[str]"], Response]
ControlHandler = Callable[[dict[str, Any]], Any]
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")

RESET_PATH = "/moto-api/reset"
CONTROL_PREFIX = "/_readiness/"


def json_response(data: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(data, default=str), status=status, content_type="application/x-amz-json-1.1"
    )


def error_response(code: str, message: str, status: int = 400) -> Response:
    body = {"__type": code, "message": message, "Message": message}
    return Response(
        json.dumps(body),
        status=status,
        content_type="application/json",
        headers={"x-amzn-ErrorType": code},
    )


def signed_scope(request: Request) -> tuple[str | None, str | None]:
    """(service, region) from the SigV4 Authorization header."""
    match = _SCOPE.search(request.headers.get("Authorization", ""))
    if match is None:
        return None, None
    return match.group("service"), match.group("region")


@final
@dataclass(frozen=True, slots=True)
class Route:
    service: str
    method: str
    path: re.Pattern[str]
    handler: Handler
    target: str | None = None  # X-Amz-Target for JSON-protocol services


@final
@dataclass
class EmulatorState:
    """Data the extensions keep, keyed by whatever each extension needs."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    data: dict[str, Any] = field(default_factory=dict)

    def bucket(self, name: str, factory: Callable[[], Any] = dict) -> Any:
        with self.lock:
            if name not in self.data:
                self.data[name] = factory()
            return self.data[name]

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


@final
class Registry:
    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.controls: dict[str, ControlHandler] = {}
        self.state = EmulatorState()
        self.installed: list[str] = []

    def route(
        self,
        service: str,
        method: str,
        path: str,
        handler: Handler,
        *,
        target: str | None = None,
    ) -> None:
        self.routes.append(Route(service, method.upper(), re.compile(path), handler, target))

    def control(self, name: str, handler: ControlHandler) -> None:
        self.controls[name] = handler

    def install(self, modules: Iterable[Any]) -> None:
        for module in modules:
            module.install(self)
            self.installed.append(module.__name__.rsplit(".", 1)[-1])

    def wsgi(self, moto_app: Any) -> Callable[..., Any]:
        """A WSGI app that answers our routes and controls, and passes the rest to moto."""

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            request = Request(environ)
            response = self._dispatch(request)
            if response is None:
                if request.path == RESET_PATH:
                    self.state.clear()
                return moto_app(environ, start_response)
            return response(environ, start_response)

        return app

    def _dispatch(self, request: Request) -> Response | None:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        service, _region = signed_scope(request)
        target = request.headers.get("X-Amz-Target")
        for route in self.routes:
            if route.method != request.method or route.service != service:
                continue
            if route.target is not None and route.target != target:
                continue
            match = route.path.fullmatch(request.path)
            if match is not None:
                return route.handler(request, match)
        return None

    def _control(self, request: Request) -> Response:
        name = request.path[len(CONTROL_PREFIX) :].strip("/")
        handler = self.controls.get(name)
        if handler is None:
            return Response(json.dumps({"error": f"no control {name!r}"}), status=404)
        try:
            payload = request.get_json(force=True, silent=True) or {}
            answer = handler(payload)
        except Exception as exc:  # a control call reports its problem to the caller
            return Response(
                json.dumps({"error": f"{type(exc).__name__}: {exc}"}),
                status=400,
                content_type="application/json",
            )
        return Response(
            json.dumps({"ok": True, "result": answer}, default=str), content_type="application/json"
        )
