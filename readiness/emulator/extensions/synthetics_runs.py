"""CloudWatch Synthetics canary runs: moto creates canaries but answers 404 to
GetCanaryRuns and DescribeCanariesLastRun, and never runs them.

Runs are planted with the control call `synthetics-canary-runs`:
`{"canary", "region"?, "runs": [{"state": "PASSED"|"FAILED"|"RUNNING", "started": ISO 8601,
"completed"?: ISO 8601, "reason"?: str}]}` (added to what is there; `"replace": true`
starts over). The canary must exist.

The two reads answer the way AWS does:
- GetCanaryRuns: newest first, `MaxResults` 1-100 (default 20, as AWS), `NextToken`;
  an unknown canary is ResourceNotFoundException (404);
- DescribeCanariesLastRun: the newest run of each canary that has one, optionally only
  the `Names` given, paginated the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from readiness.emulator.control import EMULATOR_ACCOUNT
from readiness.emulator.registry import Registry, error_response, json_response, signed_scope

BUCKET = "synthetics_runs"
STATES = ("PASSED", "FAILED", "RUNNING")
DEFAULT_PAGE = 20
MAX_PAGE = 100


def _runs(registry: Registry) -> dict[tuple[str, str], list[dict[str, Any]]]:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = registry.state.bucket(BUCKET)
    return runs


def _when(value: Any) -> dt.datetime:
    when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _canary_exists(region: str, name: str) -> bool:
    from moto.synthetics.models import synthetics_backends

    return name in synthetics_backends[EMULATOR_ACCOUNT][region].canaries


def as_run(canary: str, region: str, given: dict[str, Any]) -> dict[str, Any]:
    """One planted run in AWS's CanaryRun shape (timestamps kept as datetimes)."""
    state = str(given.get("state", "PASSED")).upper()
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}")
    started = _when(given["started"])
    completed = _when(given["completed"]) if given.get("completed") else None
    if completed is None and state != "RUNNING":
        completed = started + dt.timedelta(seconds=20)
    status: dict[str, Any] = {"State": state}
    if state == "FAILED":
        status["StateReason"] = str(given.get("reason", "Canary step failed"))
        status["StateReasonCode"] = "CANARY_FAILURE"
    timeline: dict[str, Any] = {"Started": started}
    if completed is not None:
        timeline["Completed"] = completed
    return {
        "Id": str(uuid.uuid4()),
        "Name": canary,
        "Status": status,
        "Timeline": timeline,
        "ArtifactS3Location": f"cw-syn-results-{EMULATOR_ACCOUNT}-{region}/canary/{canary}",
    }


def _wire(run: dict[str, Any]) -> dict[str, Any]:
    """restJson timestamps are epoch seconds."""
    timeline = {k: v.timestamp() for k, v in run["Timeline"].items()}
    return {**run, "Timeline": timeline}


def _page(items: list[Any], body: dict[str, Any]) -> tuple[list[Any], str | None] | Response:
    size = body.get("MaxResults", DEFAULT_PAGE)
    if not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
        return error_response("ValidationException", "MaxResults must be between 1 and 100")
    token = body.get("NextToken")
    start = 0
    if token is not None:
        match = re.fullmatch(r"next-(\d+)", str(token))
        if match is None or int(match.group(1)) > len(items):
            return error_response("ValidationException", "The NextToken is not valid")
        start = int(match.group(1))
    end = start + size
    return items[start:end], (f"next-{end}" if end < len(items) else None)


def install(registry: Registry) -> None:
    def newest_first(region: str, name: str) -> list[dict[str, Any]]:
        with registry.state.lock:
            found = list(_runs(registry).get((region, name), []))
        return sorted(found, key=lambda r: r["Timeline"]["Started"], reverse=True)

    def get_canary_runs(request: Request, match: re.Match[str]) -> Response:
        region = signed_scope(request)[1] or "us-east-1"
        name = match.group("name")
        if not _canary_exists(region, name):
            return error_response(
                "ResourceNotFoundException", f"Canary {name} does not exist", status=404
            )
        body = request.get_json(force=True, silent=True) or {}
        paged = _page(newest_first(region, name), body)
        if isinstance(paged, Response):
            return paged
        page, token = paged
        answer: dict[str, Any] = {"CanaryRuns": [_wire(r) for r in page]}
        if token:
            answer["NextToken"] = token
        return json_response(answer)

    def describe_last_run(request: Request, match: re.Match[str]) -> Response:
        region = signed_scope(request)[1] or "us-east-1"
        body = request.get_json(force=True, silent=True) or {}
        wanted = body.get("Names")
        with registry.state.lock:
            names = sorted(n for (r, n) in _runs(registry) if r == region)
        if wanted is not None:
            names = [n for n in names if n in set(wanted)]
        last = []
        for name in names:
            ordered = newest_first(region, name)
            if ordered:
                last.append({"CanaryName": name, "LastRun": _wire(ordered[0])})
        paged = _page(last, body)
        if isinstance(paged, Response):
            return paged
        page, token = paged
        answer: dict[str, Any] = {"CanariesLastRun": page}
        if token:
            answer["NextToken"] = token
        return json_response(answer)

    def plant(payload: dict[str, Any]) -> dict[str, Any]:
        region = str(payload.get("region", "us-east-1"))
        name = str(payload["canary"])
        if not _canary_exists(region, name):
            raise ValueError(f"no canary {name!r} in {region}")
        made = [as_run(name, region, r) for r in payload.get("runs", [])]
        with registry.state.lock:
            runs = _runs(registry)
            if payload.get("replace"):
                runs[(region, name)] = []
            runs.setdefault((region, name), []).extend(made)
            total = len(runs[(region, name)])
        return {"canary": name, "region": region, "runs": total}

    registry.route("synthetics", "POST", r"/canary/(?P<name>[^/]+)/runs", get_canary_runs)
    registry.route("synthetics", "POST", r"/canaries/last-run", describe_last_run)
    registry.control("synthetics-canary-runs", plant)
