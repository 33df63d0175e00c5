"""The API-call ledger: every call this run made or refused, and the IAM policy the
allowed ones add up to."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final, Literal, final

REFUSED: Final = "refused"
# How the guard let a call through: a declared read, a call of the credential chain, a
# write of the deploy, or not at all.
Grant = Literal["read", "credentials", "write", "refused"]
_GRANTS: tuple[Grant, ...] = ("read", "credentials", "write", "refused")
# IAM action names that differ from the API operation name.
_ACTION_OVERRIDES = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("budgets", "DescribeBudgets"): "budgets:ViewBudget",
    ("budgets", "DescribeNotificationsForBudget"): "budgets:ViewBudget",
    ("budgets", "DescribeSubscribersForNotification"): "budgets:ViewBudget",
    ("resourcegroupstaggingapi", "GetResources"): "tag:GetResources",
}
_PREFIX_OVERRIDES = {
    "monitoring": "cloudwatch",
    "elasticloadbalancingv2": "elasticloadbalancing",
    "elbv2": "elasticloadbalancing",
    "s3control": "s3",
    "resourcegroupstaggingapi": "tag",
}


def iam_action(service: str, signing_name: str, operation: str) -> str:
    override = _ACTION_OVERRIDES.get((service, operation))
    if override:
        return override
    prefix = _PREFIX_OVERRIDES.get(signing_name, _PREFIX_OVERRIDES.get(service, signing_name))
    return f"{prefix}:{operation}"


def request_key(service: str, region: str, operation: str, params: Any) -> str:
    """A digest that is equal for equal requests (and shows no parameter value)."""
    blob = json.dumps([service, region, operation, params], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@final
@dataclass(slots=True)
class Call:
    service: str
    region: str
    operation: str
    action: str
    key: str
    read_only_run: bool
    started: float
    duration_ms: float = 0.0
    outcome: str = "pending"
    grant: Grant = "read"
    called_from: str = ""  # the check running when the call was made, if any

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def refused(self) -> bool:
        return self.outcome == REFUSED

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "region": self.region,
            "operation": self.operation,
            "iam_action": self.action,
            "request": self.key,
            "read_only_run": self.read_only_run,
            "duration_ms": round(self.duration_ms, 2),
            "outcome": self.outcome,
            "grant": self.grant,
            "called_from": self.called_from,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Call:
        """A call another process recorded (an xdist worker's)."""
        grant: Grant = next((g for g in _GRANTS if g == data.get("grant")), "refused")
        return cls(
            service=str(data["service"]),
            region=str(data.get("region", "")),
            operation=str(data["operation"]),
            action=str(data.get("iam_action", "")),
            key=str(data.get("request", "")),
            read_only_run=bool(data.get("read_only_run", True)),
            started=0.0,
            duration_ms=float(data.get("duration_ms", 0.0)),
            outcome=str(data.get("outcome", "pending")),
            grant=grant,
            called_from=str(data.get("called_from", "")),
        )


@final
class Ledger:
    """Thread-safe; fed by the guard with every call of the run, sent or refused."""

    __slots__ = ("_calls", "_lock")

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def start(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def finish(self, call: Call, outcome: str) -> None:
        call.duration_ms = (time.perf_counter() - call.started) * 1000
        call.outcome = outcome

    def merge(self, calls: list[Call]) -> None:
        """Add calls recorded elsewhere (an xdist worker's ledger)."""
        with self._lock:
            self._calls.extend(calls)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def count(self) -> int:
        with self._lock:
            return len(self._calls)

    def since(self, index: int) -> list[Call]:
        """The calls recorded after the first `index` ones."""
        with self._lock:
            return self._calls[index:]

    def refusals(self) -> list[str]:
        """One line per refused call (and check that made it), in the order they came."""
        lines: dict[str, None] = {}
        for c in self.calls:
            if c.refused:
                mode = "read-only run" if c.read_only_run else "deploy run"
                where = c.called_from or "outside any check"
                lines[f"{mode}: refused {c.name} (called from {where})"] = None
        return list(lines)

    def summary(self) -> dict[str, Any]:
        calls = self.calls
        by_operation = Counter(c.name for c in calls)
        per_key = Counter(c.key for c in calls)
        repeated = sorted({c.name for c in calls if per_key[c.key] > 1})
        return {
            "total_calls": len(calls),
            "distinct_requests": len(per_key),
            "repeated_requests": repeated,
            # What was sent that is not a read the run declared: the writes of a deploy.
            "mutating_calls": sorted(
                {c.action for c in calls if c.grant == "write" and not c.refused}
            ),
            "refused_calls": sorted({c.name for c in calls if c.refused}),
            "by_operation": dict(sorted(by_operation.items())),
            "calls": [c.to_json() for c in calls],
        }

    def iam_policy(self) -> dict[str, Any]:
        """The actions of the calls the guard let through as reads or deploy writes:
        never a refused call, never the credential chain's own calls."""
        actions = sorted(
            {c.action for c in self.calls if not c.refused and c.grant in ("read", "write")}
        )
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadinessRun",
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": "*",
                }
            ],
        }
