"""AWS Backup resource selections: moto answers CreateBackupSelection and
ListBackupSelections with HTTP 500, so which resources a plan covers cannot be read.

These routes serve the four selection operations (restJson) in front of moto:

    PUT    /backup/plans/{id}/selections/               CreateBackupSelection
    GET    /backup/plans/{id}/selections/               ListBackupSelections (paginated)
    GET    /backup/plans/{id}/selections/{selectionId}  GetBackupSelection
    DELETE /backup/plans/{id}/selections/{selectionId}  DeleteBackupSelection

A selection belongs to a plan that moto knows (in the request's account and region);
an unknown or deleted plan is ResourceNotFoundException, as in AWS.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from readiness.emulator.registry import Registry, error_response, json_response, signed_scope

BUCKET = "backup_selections"
_PLAN = r"/backup/plans/(?P<plan>[^/]+)/selections"
_NAME = re.compile(r"^[a-zA-Z0-9\-_.]{1,50}$")
_CREDENTIAL = re.compile(r"Credential=(?P<key>[^/]+)/")
MAX_PAGE = 1000


def _account(request: Request) -> str:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from

    match = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    return get_account_id_from(match.group("key")) if match else DEFAULT_ACCOUNT_ID


def _plan_exists(account: str, region: str, plan_id: str) -> bool:
    from moto.backup.models import backup_backends

    plan = backup_backends[account][region].plans.get(plan_id)
    return plan is not None and plan.deletion_date is None


def _not_found(plan_id: str) -> Response:
    return error_response(
        "ResourceNotFoundException", f"Backup plan {plan_id} not found", status=400
    )


def _invalid(message: str) -> Response:
    return error_response("InvalidParameterValueException", message)


class Selections:
    """Selections per (account, region, plan), in creation order."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def _table(self, request: Request, plan_id: str) -> tuple[dict[str, Any] | None, str]:
        _service, region = signed_scope(request)
        account = _account(request)
        region = region or "us-east-1"
        if not _plan_exists(account, region, plan_id):
            return None, plan_id
        store: dict[tuple[str, str, str], dict[str, Any]] = self.registry.state.bucket(BUCKET)
        with self.registry.state.lock:
            return store.setdefault((account, region, plan_id), {}), plan_id

    def create(self, request: Request, match: re.Match[str]) -> Response:
        table, plan_id = self._table(request, match.group("plan"))
        if table is None:
            return _not_found(plan_id)
        body = request.get_json(force=True, silent=True) or {}
        selection = body.get("BackupSelection")
        if not isinstance(selection, dict):
            return _invalid("BackupSelection is required")
        name = selection.get("SelectionName")
        if not isinstance(name, str) or not _NAME.match(name):
            return _invalid("SelectionName must be 1 to 50 alphanumeric or '-_.' characters")
        if not selection.get("IamRoleArn"):
            return _invalid("IamRoleArn is required")
        selection_id = str(uuid.uuid4())
        record = {
            "SelectionId": selection_id,
            "BackupPlanId": plan_id,
            "CreationDate": time.time(),
            "CreatorRequestId": body.get("CreatorRequestId"),
            "BackupSelection": selection,
        }
        with self.registry.state.lock:
            table[selection_id] = record
        return json_response(
            {
                "SelectionId": selection_id,
                "BackupPlanId": plan_id,
                "CreationDate": record["CreationDate"],
            }
        )

    def list(self, request: Request, match: re.Match[str]) -> Response:
        table, plan_id = self._table(request, match.group("plan"))
        if table is None:
            return _not_found(plan_id)
        try:
            start = int(request.args.get("nextToken") or 0)
            size = int(request.args.get("maxResults") or MAX_PAGE)
        except ValueError:
            return _invalid("nextToken or maxResults is not valid")
        if not 1 <= size <= MAX_PAGE or start < 0:
            return _invalid(f"maxResults must be 1..{MAX_PAGE}")
        with self.registry.state.lock:
            records = list(table.values())
        page = records[start : start + size]
        answer: dict[str, Any] = {
            "BackupSelectionsList": [
                {
                    "SelectionId": r["SelectionId"],
                    "SelectionName": r["BackupSelection"]["SelectionName"],
                    "BackupPlanId": r["BackupPlanId"],
                    "CreationDate": r["CreationDate"],
                    "CreatorRequestId": r["CreatorRequestId"],
                    "IamRoleArn": r["BackupSelection"]["IamRoleArn"],
                }
                for r in page
            ]
        }
        if start + size < len(records):
            answer["NextToken"] = str(start + size)
        return json_response(answer)

    def get(self, request: Request, match: re.Match[str]) -> Response:
        table, plan_id = self._table(request, match.group("plan"))
        if table is None:
            return _not_found(plan_id)
        with self.registry.state.lock:
            record = table.get(match.group("selection"))
        if record is None:
            return error_response(
                "ResourceNotFoundException",
                f"Selection {match.group('selection')} not found in plan {plan_id}",
                status=400,
            )
        return json_response({k: v for k, v in record.items() if v is not None})

    def delete(self, request: Request, match: re.Match[str]) -> Response:
        table, plan_id = self._table(request, match.group("plan"))
        if table is None:
            return _not_found(plan_id)
        with self.registry.state.lock:
            removed = table.pop(match.group("selection"), None)
        if removed is None:
            return error_response(
                "ResourceNotFoundException",
                f"Selection {match.group('selection')} not found in plan {plan_id}",
                status=400,
            )
        return Response(json.dumps({}), status=200, content_type="application/json")


def install(registry: Registry) -> None:
    selections = Selections(registry)
    registry.route("backup", "PUT", f"{_PLAN}/?", selections.create)
    registry.route("backup", "GET", f"{_PLAN}/?", selections.list)
    registry.route("backup", "GET", f"{_PLAN}/(?P<selection>[^/]+)/?", selections.get)
    registry.route("backup", "DELETE", f"{_PLAN}/(?P<selection>[^/]+)/?", selections.delete)
