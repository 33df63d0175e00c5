"""The data checks in whole audits of the three demo stacks: `demo` passes every one of
them (all evaluated), `demo-risky` fails only warnings, `demo-broken` fails criticals,
each naming its resource; every run reads each request once and writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import SuiteRun, area_results, assert_reads_once_and_only_reads

pytestmark = pytest.mark.slow

CRITICAL = {
    "rds-multi-az",
    "rds-deletion-protection",
    "rds-storage-encrypted",
    "rds-not-public",
    "rds-backup-retention",
    "dynamodb-pitr",
}
WARNING = {
    "rds-performance-insights",
    "rds-auto-minor-version-upgrade",
    "dynamodb-deletion-protection",
    "dynamodb-ttl",
    "dynamodb-kms-encryption",
    "sqs-redrive-policy",
    "sqs-max-receive-count",
    "sqs-encryption",
    "backup-plan-covers-rds",
    "backup-plan-covers-dynamodb",
    "rds-cpu-alarm",
    "rds-free-storage-alarm",
    "sqs-oldest-message-alarm",
    "sqs-dlq-depth-alarm",
}
FAILING = {
    "local": set(),
    "local-risky": {
        ("rds-performance-insights", "us-east-1/prod-db"),
        ("dynamodb-ttl", "prod-sessions"),
        ("sqs-max-receive-count", "us-east-1/prod-notifications"),
        ("sqs-dlq-depth-alarm", "us-east-1/prod-notifications-dlq"),
    },
    "local-broken": {
        ("rds-multi-az", "us-east-1/prod-db"),
        ("rds-deletion-protection", "us-east-1/prod-db"),
        ("rds-backup-retention", "us-east-1/prod-db"),
        ("dynamodb-pitr", "us-east-1/prod-orders"),
        ("dynamodb-kms-encryption", "us-east-1/prod-orders"),
    },
}


@pytest.mark.parametrize("env", sorted(FAILING))
def test_demo_stack(demo_audit: Callable[[str], SuiteRun], env: str) -> None:
    run = demo_audit(env)
    results = area_results(run, CRITICAL, WARNING)
    failed = {(r["check_id"], r["resource"]) for r in results if r["outcome"] == "failed"}
    assert failed == FAILING[env], run.stdout[-3000:]
    others = {r["outcome"] for r in results if (r["check_id"], r["resource"]) not in failed}
    assert others == {"passed"}, run.stdout[-3000:]
    severities = {r["severity"] for r in results if r["outcome"] == "failed"}
    assert severities == {"local": set(), "local-risky": {"warning"}}.get(
        env, {"critical", "warning"}
    )
    assert_reads_once_and_only_reads(run)
