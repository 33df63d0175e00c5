"""The API-call ledger: every call this run made, and the IAM policy they add up to."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, final

from readiness.aws.guard import is_read

_READS = frozenset({"GetCallerIdentity"})
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
        }


@final
class Ledger:
    """Thread-safe; fed by botocore events on every client this run creates."""

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

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def summary(self) -> dict[str, Any]:
        calls = self.calls
        by_operation = Counter(f"{c.service}:{c.operation}" for c in calls)
        per_key = Counter(c.key for c in calls)
        repeated = sorted({f"{c.service}:{c.operation}" for c in calls if per_key[c.key] > 1})
        return {
            "total_calls": len(calls),
            "distinct_requests": len(per_key),
            "repeated_requests": repeated,
            "mutating_calls": sorted(
                {c.action for c in calls if not (is_read(c.operation) or c.operation in _READS)}
            ),
            "by_operation": dict(sorted(by_operation.items())),
            "calls": [c.to_json() for c in calls],
        }

    def iam_policy(self) -> dict[str, Any]:
        actions = sorted({c.action for c in self.calls})
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
