"""Cost Explorer's cost-allocation tags: which tag keys Billing knows and which are active.

moto serves neither ListCostAllocationTags nor UpdateCostAllocationTagsStatus. Here
UpdateCostAllocationTagsStatus sets a key's status (`Active` or `Inactive`; anything else
comes back in `Errors`, as in AWS) and ListCostAllocationTags lists the keys set so far,
sorted, filtered by `TagKeys`, `Status` and `Type` (`aws:` keys are `AWSGenerated`, the
rest `UserDefined`), paged by `MaxResults` (default 100) and `NextToken`. A key nobody
has set is not listed: on AWS a key appears only once Billing has seen it on a resource.
The control call `cost-allocation-tags` plants statuses: `{"KEY": "Active", ...}`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from readiness.emulator.registry import Registry, error_response, json_response

BUCKET = "cost_allocation_tags"
TARGET = "AWSInsightsIndexService"
STATUSES = ("Active", "Inactive")


def _type(key: str) -> str:
    return "AWSGenerated" if key.startswith("aws:") else "UserDefined"


class CostAllocationTags:
    def __init__(self, registry: Registry) -> None:
        self.state = registry.state

    def _tags(self) -> dict[str, dict[str, Any]]:
        tags: dict[str, dict[str, Any]] = self.state.bucket(BUCKET)
        return tags

    def _set(self, key: str, status: str) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.state.lock:
            self._tags()[key] = {
                "TagKey": key,
                "Type": _type(key),
                "Status": status,
                "LastUpdatedDate": now,
                "LastUsedDate": now,
            }

    def update(self, request: Request, _match: re.Match[str]) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        entries = body.get("CostAllocationTagsStatus")
        if not isinstance(entries, list) or not 1 <= len(entries) <= 20:
            return error_response(
                "ValidationException", "CostAllocationTagsStatus needs 1 to 20 entries"
            )
        errors = []
        for entry in entries:
            key = entry.get("TagKey") if isinstance(entry, dict) else None
            status = entry.get("Status") if isinstance(entry, dict) else None
            if not isinstance(key, str) or not key or status not in STATUSES:
                errors.append(
                    {"TagKey": str(key), "Code": "InvalidInput", "Message": "bad key or status"}
                )
                continue
            self._set(key, str(status))
        return json_response({"Errors": errors})

    def list(self, request: Request, _match: re.Match[str]) -> Response:
        body = request.get_json(force=True, silent=True) or {}
        wanted_keys = body.get("TagKeys")
        status, kind = body.get("Status"), body.get("Type")
        try:
            size = int(body.get("MaxResults") or 100)
            start = int(body.get("NextToken") or 0)
        except (TypeError, ValueError):
            return error_response("ValidationException", "bad MaxResults or NextToken")
        if not 1 <= size <= 1000:
            return error_response("ValidationException", "MaxResults must be 1 to 1000")
        with self.state.lock:
            rows = [dict(self._tags()[k]) for k in sorted(self._tags())]
        rows = [
            r
            for r in rows
            if (not wanted_keys or r["TagKey"] in wanted_keys)
            and (status is None or r["Status"] == status)
            and (kind is None or r["Type"] == kind)
        ]
        page = rows[start : start + size]
        answer: dict[str, Any] = {"CostAllocationTags": page}
        if start + size < len(rows):
            answer["NextToken"] = str(start + size)
        return json_response(answer)

    def plant(self, params: dict[str, Any]) -> dict[str, Any]:
        for key, status in params.items():
            if status not in STATUSES:
                raise ValueError(f"cost-allocation tag {key!r}: status must be Active or Inactive")
            self._set(str(key), str(status))
        return {"planted": sorted(params)}


def install(registry: Registry) -> None:
    tags = CostAllocationTags(registry)
    registry.route("ce", "POST", "/", tags.list, target=f"{TARGET}.ListCostAllocationTags")
    registry.route(
        "ce", "POST", "/", tags.update, target=f"{TARGET}.UpdateCostAllocationTagsStatus"
    )
    registry.control("cost-allocation-tags", tags.plant)
