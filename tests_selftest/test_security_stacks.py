"""The security checks in whole audits of the three demo stacks: `demo` passes every one
of them (all evaluated), `demo-risky` fails only warnings, `demo-broken` fails criticals;
each failure names its resource; every run reads each request once and writes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import SuiteRun, area_results, assert_reads_once_and_only_reads

pytestmark = pytest.mark.slow

CRITICAL = {
    "iam-root-mfa",
    "iam-root-no-access-keys",
    "cloudtrail-multi-region-logging",
    "guardduty-enabled",
    "s3-account-public-access-block",
    "ec2-sg-admin-ports",
}
WARNING = {
    "iam-password-policy",
    "iam-access-key-age",
    "securityhub-enabled",
    "config-recorder-recording",
    "s3-bucket-encryption",
    "s3-bucket-versioning",
    "s3-bucket-public-access-block",
    "vpc-flow-logs",
    "kms-key-rotation",
    "secretsmanager-rotation",
    "ec2-ebs-default-encryption",
}
# (check id, words its message must hold): resource ids made by the emulator (key and
# security group ids) differ per run, so the failure is found by what it says.
FAILING = {
    "local": set(),
    "local-risky": {
        ("iam-access-key-age", "user deploy-bot has active access keys older than 90 days"),
        ("kms-key-rotation", "(alias/prod-data) has automatic rotation off"),
        ("s3-bucket-versioning", "bucket prod-assets-123456789012 (us-east-1) has versioning"),
        ("secretsmanager-rotation", "secret us-east-1/prod/db-password has automatic rotation"),
    },
    "local-broken": {
        ("iam-root-mfa", "account 123456789012: the root user has no MFA device"),
        ("guardduty-enabled", "us-west-2/guardduty: no GuardDuty detector in us-west-2"),
        ("ec2-sg-admin-ports", "(prod-bastion) allows port 22 from 0.0.0.0/0, ::/0"),
        ("cloudtrail-multi-region-logging", "org-trail (not logging)"),
        ("ec2-ebs-default-encryption", "us-west-2/ebs-encryption-by-default: EBS encryption"),
    },
}


@pytest.mark.parametrize("env", sorted(FAILING))
def test_demo_stack(demo_audit: Callable[[str], SuiteRun], env: str) -> None:
    run = demo_audit(env)
    results = area_results(run, CRITICAL, WARNING)
    failed = [r for r in results if r["outcome"] == "failed"]
    found = {
        (check, words)
        for check, words in FAILING[env]
        for r in failed
        if r["check_id"] == check and words in r["message"]
    }
    assert found == FAILING[env], [(r["check_id"], r["message"]) for r in failed]
    assert len(failed) == len(FAILING[env]), [(r["check_id"], r["message"]) for r in failed]
    assert {r["outcome"] for r in results if r not in failed} == {"passed"}, run.stdout[-3000:]
    expected_codes = {"local": 0, "local-risky": 1, "local-broken": 2}
    assert run.returncode == expected_codes[env], run.stdout[-3000:]
    assert_reads_once_and_only_reads(run)
