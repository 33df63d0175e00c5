"""GuardDuty findings: moto keeps detectors and filters, but ListFindings and GetFindings
answer 404.

Findings are planted with the control call `guardduty-findings`:
`{"region"?, "detector_id"?, "findings": [{"type", "severity", "title"?, "created"?: ISO
8601, "updated"?, "resource_type"?, "archived"?: bool}]}` (the region's first detector when
no id is given; the detector must exist). `"replace": true` starts over.

The reads answer the way AWS does, for the criteria a post-deploy check uses:
- ListFindings: `FindingCriteria.Criterion` on `severity`, `createdAt`, `updatedAt`
  (Gt/Gte/Lt/Lte, or GreaterThan... in epoch milliseconds), `type` and
  `service.archived` (Eq/Neq); an unknown field is refused (BadRequestException);
  `MaxResults` 1-50 (default 50), `NextToken`; an unknown detector is a 400;
- GetFindings: the findings named (up to 50), in AWS's Finding shape.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from readiness.emulator.control import EMULATOR_ACCOUNT
from readiness.emulator.registry import Registry, error_response, json_response, signed_scope

BUCKET = "guardduty_findings"
MAX_PAGE = 50
# Condition operators as they travel (camelCase), and what each compares.
_NUMERIC = {
    "gt": "gt",
    "greaterThan": "gt",
    "gte": "ge",
    "greaterThanOrEqual": "ge",
    "lt": "lt",
    "lessThan": "lt",
    "lte": "le",
    "lessThanOrEqual": "le",
}


def _findings(registry: Registry) -> dict[tuple[str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str], list[dict[str, Any]]] = registry.state.bucket(BUCKET)
    return found


def _detectors(region: str) -> list[str]:
    from moto.guardduty.models import guardduty_backends

    return list(guardduty_backends[EMULATOR_ACCOUNT][region].list_detectors())


def _iso(value: Any) -> str:
    when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def as_finding(region: str, detector: str, given: dict[str, Any]) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).isoformat()
    created = _iso(given.get("created", now))
    finding_id = uuid.uuid4().hex
    severity = float(given["severity"])
    if not 0 < severity < 10:
        raise ValueError("severity must be between 0 and 10 (exclusive)")
    kind = str(given["type"])
    return {
        "AccountId": EMULATOR_ACCOUNT,
        "Arn": f"arn:aws:guardduty:{region}:{EMULATOR_ACCOUNT}:detector/{detector}/finding/"
        f"{finding_id}",
        "Id": finding_id,
        "Partition": "aws",
        "Region": region,
        "SchemaVersion": "2.0",
        "Type": kind,
        "Title": str(given.get("title", kind)),
        "Description": str(given.get("description", given.get("title", kind))),
        "Severity": severity,
        "Confidence": 8.0,
        "CreatedAt": created,
        "UpdatedAt": _iso(given.get("updated", created)),
        "Resource": {"ResourceType": str(given.get("resource_type", "Instance"))},
        "Service": {
            "ServiceName": "guardduty",
            "DetectorId": detector,
            "Archived": bool(given.get("archived", False)),
            "Count": 1,
        },
    }


def _epoch_ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _field(finding: dict[str, Any], name: str) -> Any:
    if name == "severity":
        return finding["Severity"]
    if name == "createdAt":
        return _epoch_ms(finding["CreatedAt"])
    if name == "updatedAt":
        return _epoch_ms(finding["UpdatedAt"])
    if name == "type":
        return finding["Type"]
    if name == "service.archived":
        return "true" if finding["Service"]["Archived"] else "false"
    raise KeyError(name)


FIELDS = ("severity", "createdAt", "updatedAt", "type", "service.archived")
_EQUALITY = ("eq", "equals", "neq", "notEquals")


def validate(criteria: dict[str, Any]) -> None:
    """Refuse what this emulator cannot judge, rather than ignore it."""
    for name, condition in criteria.items():
        if name not in FIELDS:
            raise KeyError(name)
        for op in condition or {}:
            if op not in _NUMERIC and op not in _EQUALITY:
                raise KeyError(op)


def _matches(finding: dict[str, Any], criteria: dict[str, Any]) -> bool:
    for name, condition in criteria.items():
        value = _field(finding, name)
        for op, operand in (condition or {}).items():
            if op in _NUMERIC:
                limit = float(operand)
                ok = {
                    "gt": value > limit,
                    "ge": value >= limit,
                    "lt": value < limit,
                    "le": value <= limit,
                }[_NUMERIC[op]]
            elif op in ("eq", "equals"):
                ok = str(value) in [str(v) for v in operand]
            elif op in ("neq", "notEquals"):
                ok = str(value) not in [str(v) for v in operand]
            else:
                raise KeyError(op)
            if not ok:
                return False
    return True


def install(registry: Registry) -> None:
    def stored(region: str, detector: str) -> list[dict[str, Any]] | None:
        if detector not in _detectors(region):
            return None
        with registry.state.lock:
            return list(_findings(registry).get((region, detector), []))

    def of_detector(request: Request, match: re.Match[str]) -> list[dict[str, Any]] | Response:
        """The detector's findings, or GuardDuty's answer for a detector not ours."""
        region = signed_scope(request)[1] or "us-east-1"
        findings = stored(region, match.group("detector"))
        if findings is None:
            return error_response(
                "BadRequestException",
                "The request is rejected because the input detectorId "
                "is not owned by the current account.",
            )
        return findings

    def list_findings(request: Request, match: re.Match[str]) -> Response:
        findings = of_detector(request, match)
        if isinstance(findings, Response):
            return findings
        body = request.get_json(force=True, silent=True) or {}
        criteria = (body.get("findingCriteria") or {}).get("criterion") or {}
        try:
            validate(criteria)
            chosen = [f for f in findings if _matches(f, criteria)]
        except (KeyError, TypeError, ValueError) as exc:
            return error_response(
                "BadRequestException", f"The request is rejected: unsupported criterion {exc}"
            )
        chosen.sort(key=lambda f: f["CreatedAt"], reverse=True)
        size = body.get("maxResults", MAX_PAGE)
        if not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
            return error_response("BadRequestException", "maxResults must be between 1 and 50")
        token = str(body.get("nextToken") or "0")
        if not token.isdigit() or int(token) > len(chosen):
            return error_response("BadRequestException", "The nextToken is not valid")
        start = int(token)
        end = start + size
        answer: dict[str, Any] = {"findingIds": [f["Id"] for f in chosen[start:end]]}
        answer["nextToken"] = str(end) if end < len(chosen) else ""
        return json_response(answer)

    def get_findings(request: Request, match: re.Match[str]) -> Response:
        findings = of_detector(request, match)
        if isinstance(findings, Response):
            return findings
        body = request.get_json(force=True, silent=True) or {}
        ids = list(body.get("findingIds") or [])
        if not 1 <= len(ids) <= MAX_PAGE:
            return error_response("BadRequestException", "findingIds must name 1 to 50 findings")
        by_id = {f["Id"]: f for f in findings}
        return json_response({"findings": [_wire(by_id[i]) for i in ids if i in by_id]})

    def plant(payload: dict[str, Any]) -> dict[str, Any]:
        region = str(payload.get("region", "us-east-1"))
        detectors = _detectors(region)
        detector = str(payload.get("detector_id") or (detectors[0] if detectors else ""))
        if detector not in detectors:
            raise ValueError(f"no GuardDuty detector {detector!r} in {region}")
        made = [as_finding(region, detector, f) for f in payload.get("findings", [])]
        with registry.state.lock:
            store = _findings(registry)
            if payload.get("replace"):
                store[(region, detector)] = []
            store.setdefault((region, detector), []).extend(made)
        return {"detector": detector, "ids": [f["Id"] for f in made]}

    path = r"/detector/(?P<detector>[^/]+)/findings"
    registry.route("guardduty", "POST", path, list_findings)
    registry.route("guardduty", "POST", path + "/get", get_findings)
    registry.control("guardduty-findings", plant)


def _wire(finding: dict[str, Any]) -> dict[str, Any]:
    """GuardDuty's wire format is camelCase JSON."""

    def lower(key: str) -> str:
        return key[0].lower() + key[1:]

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {lower(k): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    out: dict[str, Any] = convert(finding)
    return out
