"""The DynamoDB checks on the emulator: PITR, deletion protection, KMS encryption, TTL on
the attribute the environment names, and unreadable per-table reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .test_data_support import Taken, checks_of, environment, outcome, snapshot

KINDS = ("dynamodb.tables",)
TTL = {
    "good-table": "expires_at",
    "bad-table": "expires_at",
    "odd-ttl": "expires_at",
    "missing-table": "expires_at",
}


@dataclass
class Stack:
    taken: Taken
    denied: Taken
    checks: dict[str, Any]


def _table(ddb: Any, name: str, **settings: Any) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **settings,
    )


@pytest.fixture(scope="module")
def stack(pytestconfig: pytest.Config) -> Iterator[Stack]:
    checks = checks_of(
        pytestconfig,
        "audit/infrastructure/test_dynamodb.py",
        "audit/security/test_data_encryption.py",
    )
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        ddb = control.client("dynamodb")
        key = control.client("kms").create_key(Description="prod-data")["KeyMetadata"]["Arn"]
        _table(
            ddb,
            "good-table",
            DeletionProtectionEnabled=True,
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key},
        )
        _table(ddb, "managed-key", SSESpecification={"Enabled": True, "SSEType": "KMS"})
        _table(ddb, "bad-table")  # AWS-owned key, no PITR, no protection, no TTL
        _table(ddb, "odd-ttl")
        ddb.update_continuous_backups(
            TableName="good-table",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        ddb.update_time_to_live(
            TableName="good-table",
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
        ddb.update_time_to_live(
            TableName="odd-ttl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
        env = environment(expect={"ttl": TTL})
        taken = snapshot(emulator.endpoint, KINDS, env)
        denied = snapshot(
            emulator.endpoint,
            KINDS,
            env,
            denied=[("dynamodb", "DescribeContinuousBackups"), ("dynamodb", "DescribeTimeToLive")],
        )
        yield Stack(taken, denied, checks)


def _judge(stack: Stack, check: str, table: str) -> tuple[str, str]:
    resource = stack.taken.resource("dynamodb.tables", table)
    return outcome(stack.checks[check], resource=resource)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ("test_dynamodb_pitr", "us-east-1/bad-table has point-in-time recovery DISABLED"),
        ("test_dynamodb_deletion_protection", "us-east-1/bad-table has no deletion protection"),
        (
            "test_dynamodb_kms_encryption",
            "us-east-1/bad-table is encrypted only with the AWS-owned",
        ),
    ],
)
def test_table_criteria(stack: Stack, check: str, message: str) -> None:
    assert _judge(stack, check, "good-table") == ("passed", "")
    result, text = _judge(stack, check, "bad-table")
    assert result == "failed" and text.startswith(message), text


def test_aws_managed_key_counts_as_kms(stack: Stack) -> None:
    assert _judge(stack, "test_dynamodb_kms_encryption", "managed-key") == ("passed", "")


@pytest.mark.parametrize(
    ("table", "expected", "message"),
    [
        ("good-table", "passed", ""),
        ("bad-table", "failed", "us-east-1/bad-table has TTL DISABLED (expected on expires_at)"),
        ("odd-ttl", "failed", "us-east-1/odd-ttl expires items on ttl, not expires_at"),
        ("missing-table", "failed", "DynamoDB table missing-table (TTL on expires_at) not found"),
    ],
)
def test_ttl_on_the_named_attribute(stack: Stack, table: str, expected: str, message: str) -> None:
    result, text = outcome(
        stack.checks["test_dynamodb_ttl"],
        inventory=stack.taken.snapshot,
        environment=stack.taken.env,
        expected_name=table,
    )
    assert (result, text[: len(message)]) == (expected, message)


def test_tables_not_named_are_not_judged_for_ttl(stack: Stack) -> None:
    mark = next(m for m in stack.checks["test_dynamodb_ttl"].pytestmark if m.name == "expected")
    named = list(getattr(stack.taken.env.expect, mark.args[0]))
    assert "managed-key" not in named and sorted(named) == sorted(TTL)


def test_unreadable_reads_are_not_evaluated(stack: Stack) -> None:
    table = stack.denied.resource("dynamodb.tables", "good-table")
    result, text = outcome(stack.checks["test_dynamodb_pitr"], resource=table)
    assert result == "not-evaluated"
    assert text.startswith("us-east-1/good-table: ContinuousBackups could not be read")
    result, text = outcome(
        stack.checks["test_dynamodb_ttl"],
        inventory=stack.denied.snapshot,
        environment=stack.denied.env,
        expected_name="good-table",
    )
    assert result == "not-evaluated" and "TimeToLive could not be read" in text
    # The table's own description was read: what it holds is still judged.
    assert outcome(stack.checks["test_dynamodb_deletion_protection"], resource=table)[0] == "passed"


def test_each_request_once_and_read_only(stack: Stack) -> None:
    calls = stack.taken.calls
    assert calls["total_calls"] == calls["distinct_requests"] > 0
    assert calls["mutating_calls"] == []
