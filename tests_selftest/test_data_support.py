"""Helpers of the data-area selftests (emulator snapshots, running one check on one
resource), and tests of the pure rules those checks rest on: which resources a backup
selection covers, how a redrive policy reads, which Performance Insights retention
periods AWS accepts."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from readiness.aws.access import AwsAccess
from readiness.config import Environment
from readiness.emulator.control import EmulatorControl
from readiness.emulator.extensions.rds_performance_insights import valid_retention
from readiness.inventory.collectors import by_kind
from readiness.inventory.collectors.backup import arn_matches, selection_covers
from readiness.inventory.collectors.sqs import redrive_policy
from readiness.inventory.model import NotEvaluated, Resource, Snapshot, Target
from readiness.inventory.runner import take_snapshot

REPO = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:prod-alerts"


# -- helpers ---------------------------------------------------------------------------


CHECK_MARKERS = ("audit", "critical", "warning", "check", "resources", "expected")


def load_checks(config: pytest.Config, relative: str) -> ModuleType:
    """Import a check module (checks are not a package: pytest imports them by path).

    The readiness plugins that register the checks' markers are not part of a selftest
    session, so the markers are registered here first (the selftests run strict).
    """
    for marker in CHECK_MARKERS:
        config.addinivalue_line("markers", f"{marker}: readiness check marker")
    path = REPO / "checks" / relative
    name = "data_selftest_" + relative.replace("/", "_").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def environment(regions: Iterable[str] = ("us-east-1",), **fields: Any) -> Environment:
    return Environment(
        name="selftest",
        account_id=ACCOUNT,
        regions=list(regions),
        emulator={"seed": "empty"},
        **fields,
    )


@dataclass
class Taken:
    snapshot: Snapshot
    env: Environment
    access: AwsAccess

    def resource(self, kind: str, ident: str, region: str = "us-east-1") -> Resource:
        for r in self.snapshot.resources(kind):
            if r.id == ident and r.region == region:
                return r
        raise KeyError(f"{kind} {region}/{ident} not in the snapshot")

    def selected(self, check: Callable[..., Any]) -> list[str]:
        """Labels of the resources the check is parametrised over (its `where` applied)."""
        mark = next(m for m in check.pytestmark if m.name == "resources")
        where = mark.kwargs.get("where")
        return sorted(
            r.label
            for r in self.snapshot.resources(mark.args[0])
            if where is None or where(r, self.env)
        )

    @property
    def calls(self) -> dict[str, Any]:
        return self.access.ledger.summary()


def deny(operation: str) -> Callable[..., None]:
    """A botocore before-call handler that answers AccessDenied for `operation`."""

    def handler(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not for this role"}},
            operation,
        )

    return handler


def snapshot(
    endpoint: str,
    kinds: Iterable[str],
    env: Environment | None = None,
    denied: Iterable[tuple[str, str]] = (),
) -> Taken:
    """A read-only snapshot of some kinds, as a run takes it; `denied` (service, Operation)
    pairs fail with AccessDenied in every region."""
    env = env or environment()
    access = AwsAccess(env, endpoint_url=endpoint, read_only=True)
    for service, operation in denied:
        for region in env.regions:
            events = access.client(service, region).meta.events
            events.register(f"before-call.{service}.{operation}", deny(operation))
    target = Target(
        environment=env.name,
        account=env.account_id,
        regions=tuple(env.regions),
        endpoint=endpoint,
        emulated=True,
        seed="empty",
    )
    collectors = [by_kind()[k] for k in kinds]
    result = take_snapshot(access, env, target, collectors)
    assert not result.problems, result.problems
    return Taken(result.snapshot, env, access)


def checks_of(config: pytest.Config, *relative: str) -> dict[str, Callable[..., Any]]:
    """Every check function of the given modules, by name."""
    found: dict[str, Callable[..., Any]] = {}
    for module in (load_checks(config, r) for r in relative):
        found.update({k: v for k, v in vars(module).items() if k.startswith("test_")})
    return found


def outcome(check: Callable[..., Any], **arguments: Any) -> tuple[str, str]:
    """Run one check body the way the plugin judges it: (outcome, message)."""
    try:
        check(**arguments)
    except AssertionError as exc:
        return "failed", str(exc).split("\nassert", 1)[0]
    except NotEvaluated as exc:
        return "not-evaluated", str(exc)
    except pytest.skip.Exception as exc:
        kind = "not-applicable" if exc.msg.startswith("not-applicable") else "not-evaluated"
        return kind, exc.msg
    return "passed", ""


def alarm(
    control: EmulatorControl,
    name: str,
    namespace: str,
    metric: str,
    dims: dict[str, str],
    *,
    actions: bool = True,
    region: str = "us-east-1",
) -> None:
    control.client("cloudwatch", region).put_metric_alarm(
        AlarmName=name,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[TOPIC] if actions else [],
    )


# -- backup selections: which resources they assign -------------------------------------

DB = f"arn:aws:rds:us-east-1:{ACCOUNT}:db:prod-db"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/prod-orders"


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        ("*", DB, True),
        ("arn:aws:rds:*:*:db:*", DB, True),
        ("arn:aws:rds:*:*:db:prod-*", DB, True),
        ("arn:aws:rds:*:*:cluster:*", DB, False),
        ("arn:aws:dynamodb:*:*:table/*", DB, False),
        (DB, DB, True),
        (DB + "-2", DB, False),
        ("arn:aws:rds:us-east-1:123456789012:db:prod.db", DB, False),  # '.' is literal
    ],
)
def test_selection_patterns(pattern: str, arn: str, matches: bool) -> None:
    assert arn_matches(pattern, arn) is matches


@pytest.mark.parametrize(
    ("selection", "tags", "covered"),
    [
        ({"Resources": [DB]}, {}, True),
        ({"Resources": [TABLE]}, {}, False),
        ({}, {}, True),  # nothing named: every supported resource
        ({"Resources": ["*"], "NotResources": [DB]}, {}, False),
        (
            {
                "ListOfTags": [
                    {
                        "ConditionType": "STRINGEQUALS",
                        "ConditionKey": "backup",
                        "ConditionValue": "daily",
                    }
                ]
            },
            {"backup": "daily"},
            True,
        ),
        (
            {
                "ListOfTags": [
                    {
                        "ConditionType": "STRINGEQUALS",
                        "ConditionKey": "backup",
                        "ConditionValue": "daily",
                    }
                ]
            },
            {"backup": "weekly"},
            False,
        ),
        (  # Resources OR ListOfTags
            {
                "Resources": [TABLE],
                "ListOfTags": [
                    {"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "daily"}
                ],
            },
            {"backup": "daily"},
            True,
        ),
        (  # Resources AND Conditions
            {
                "Resources": ["arn:aws:rds:*:*:db:*"],
                "Conditions": {
                    "StringEquals": [
                        {"ConditionKey": "aws:ResourceTag/tier", "ConditionValue": "gold"}
                    ]
                },
            },
            {"tier": "silver"},
            False,
        ),
        (
            {
                "Resources": ["*"],
                "Conditions": {
                    "StringLike": [
                        {"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "prod*"}
                    ],
                    "StringNotEquals": [
                        {"ConditionKey": "aws:ResourceTag/backup", "ConditionValue": "none"}
                    ],
                },
            },
            {"env": "production"},
            True,
        ),
        (
            {
                "Resources": ["*"],
                "Conditions": {
                    "StringNotLike": [
                        {"ConditionKey": "aws:ResourceTag/env", "ConditionValue": "*dev*"}
                    ],
                },
            },
            {"env": "my-dev-box"},
            False,
        ),
    ],
)
def test_selection_covers(selection: dict[str, Any], tags: dict[str, str], covered: bool) -> None:
    assert selection_covers(selection, DB, tags, "us-east-1/prod-db") is covered


def test_selection_by_tag_with_unknown_tags_is_not_evaluated() -> None:
    by_tag = {"ListOfTags": [{"ConditionKey": "backup", "ConditionValue": "daily"}]}
    with pytest.raises(NotEvaluated, match="us-east-1/prod-db: its tags could not be read"):
        selection_covers(by_tag, DB, None, "us-east-1/prod-db")
    # A selection that names the resource needs no tags.
    assert selection_covers({"Resources": [DB], **by_tag}, DB, None, "us-east-1/prod-db")


# -- redrive policies and Performance Insights retention ---------------------------------


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (None, None),
        ("", None),
        (
            json.dumps({"deadLetterTargetArn": "a", "maxReceiveCount": 5}),
            {"deadLetterTargetArn": "a", "maxReceiveCount": 5},
        ),
        (
            '{"deadLetterTargetArn":"a","maxReceiveCount":"5"}',
            {"deadLetterTargetArn": "a", "maxReceiveCount": "5"},
        ),
        ("not json", {"unparseable": "not json"}),
    ],
)
def test_redrive_policy_reads_as_aws_returns_it(raw: str | None, parsed: Any) -> None:
    assert redrive_policy({"RedrivePolicy": raw} if raw is not None else {}) == parsed


@pytest.mark.parametrize(
    ("days", "valid"),
    [
        (7, True),
        (31, True),
        (62, True),
        (713, True),
        (731, True),
        (0, False),
        (8, False),
        (30, False),
        (744, False),
        (732, False),
        (-31, False),
    ],
)
def test_performance_insights_retention_values(days: int, valid: bool) -> None:
    assert valid_retention(days) is valid
