"""CloudWatch Synthetics canary state: moto creates every canary READY and has no
StartCanary or StopCanary, so a canary can never be RUNNING.

These routes serve the two operations (restJson) in front of moto, on moto's own canary:

    POST /canary/{name}/start   StartCanary: READY or STOPPED -> RUNNING (LastStarted)
    POST /canary/{name}/stop    StopCanary:  RUNNING -> STOPPED (LastStopped)

An unknown canary is ResourceNotFoundException (404); starting a running canary or
stopping one that is not running is ConflictException (409), as in AWS.
DescribeCanaries then reports the state, and the Timeline's LastStarted/LastStopped.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from readiness.emulator.control import EMULATOR_ACCOUNT
from readiness.emulator.registry import Registry, error_response, signed_scope

_MARK = "_readiness_canary_state"


def _canary(region: str, name: str) -> Any:
    from moto.synthetics.models import synthetics_backends

    return synthetics_backends[EMULATOR_ACCOUNT][region].canaries.get(name)


def _stamp(when: Any) -> Any:
    if isinstance(when, dt.datetime):
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return when


def patch_canary(cls: Any) -> None:
    """DescribeCanaries reports LastStarted/LastStopped as kept in the timeline."""
    if getattr(cls, _MARK, False):
        return
    original = cls.to_dict

    @functools.wraps(original)
    def to_dict(self: Any) -> dict[str, Any]:
        data: dict[str, Any] = original(self)
        timeline = dict(data.get("Timeline") or {})
        for key in ("LastStarted", "LastStopped"):
            timeline[key] = _stamp(self.timeline.get(key))
        data["Timeline"] = timeline
        data["Status"] = {**data.get("Status", {}), **getattr(self, "_readiness_status", {})}
        return data

    cls.to_dict = to_dict
    setattr(cls, _MARK, True)


def _change(request: Request, match: re.Match[str], target: str) -> Response:
    _service, region = signed_scope(request)
    name = match.group("name")
    canary = _canary(region or "us-east-1", name)
    if canary is None:
        return error_response("ResourceNotFoundException", f"Canary {name} not found", 404)
    if target == "RUNNING" and canary.state == "RUNNING":
        return error_response("ConflictException", f"Canary {name} is already running", 409)
    if target == "STOPPED" and canary.state != "RUNNING":
        return error_response("ConflictException", f"Canary {name} is not running", 409)
    now = dt.datetime.now(dt.UTC)
    canary.state = target
    canary.timeline["LastStarted" if target == "RUNNING" else "LastStopped"] = now
    canary.timeline["LastModified"] = now
    reason = "Started by StartCanary" if target == "RUNNING" else "Stopped by StopCanary"
    canary._readiness_status = {"StateReason": reason}
    return Response(json.dumps({}), status=200, content_type="application/json")


def install(registry: Registry) -> None:
    from moto.synthetics.models import Canary

    patch_canary(Canary)
    path = r"/canary/(?P<name>[^/]+)/"
    registry.route("synthetics", "POST", path + "start", lambda r, m: _change(r, m, "RUNNING"))
    registry.route("synthetics", "POST", path + "stop", lambda r, m: _change(r, m, "STOPPED"))
