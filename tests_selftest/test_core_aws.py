"""AWS access: the read-only guard, the ledger, the memoised and paginated fetcher."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from readiness.aws import (
    AwsAccess,
    FailureKind,
    FetchError,
    ReadOnlyViolation,
    credential_operations,
    is_read,
)
from readiness.config import Environment
from readiness.emulator import EmulatorControl, EmulatorProcess
from readiness.inventory.allowlist import phase_policy
from readiness.inventory.fetch import Fetcher


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("empty") as running:
        yield running


def environment() -> Environment:
    return Environment(
        name="t", account_id="123456789012", regions=["us-east-1"], emulator={"seed": "empty"}
    )


def access(emulator: EmulatorProcess, *, read_only: bool = True) -> AwsAccess:
    return AwsAccess(environment(), endpoint_url=emulator.endpoint, read_only=read_only)


@pytest.mark.parametrize(
    ("operation", "read"),
    [
        ("DescribeDBInstances", True),
        ("ListQueues", True),
        ("GetBucketEncryption", True),
        ("CreateQueue", False),
        ("PutMetricData", False),
        ("ModifyDBInstance", False),
        ("UpdateTimeToLive", False),
        ("GetSecretValue", False),  # a read of a secret: never in an audit
        ("GetObject", False),
        ("FilterLogEvents", True),
    ],
)
def test_is_read(operation: str, read: bool) -> None:
    assert is_read(operation) is read


def test_guard_refuses_a_write_before_sending_it(emulator: EmulatorProcess) -> None:
    guarded = access(emulator)
    sqs = guarded.client("sqs")
    with pytest.raises(ReadOnlyViolation, match="refused sqs:CreateQueue before sending it"):
        sqs.create_queue(QueueName="should-not-exist")
    # Nothing reached the emulator; the ledger keeps the attempt as refused.
    seen = EmulatorControl(emulator.endpoint).client("sqs").list_queues().get("QueueUrls", [])
    assert not any(url.endswith("/should-not-exist") for url in seen)
    assert [(c.name, c.outcome) for c in guarded.ledger.calls] == [("sqs:CreateQueue", "refused")]
    summary = guarded.ledger.summary()
    assert summary["refused_calls"] == ["sqs:CreateQueue"]
    assert summary["mutating_calls"] == []
    assert guarded.ledger.iam_policy()["Statement"][0]["Action"] == []


def test_writer_is_the_same_ledger_without_the_guard(emulator: EmulatorProcess) -> None:
    guarded = access(emulator)
    writer = guarded.writer()
    writer.client("sqs").create_queue(QueueName="written-by-deploy")
    assert writer.ledger is guarded.ledger
    assert [c.operation for c in guarded.ledger.calls] == ["CreateQueue"]
    assert guarded.ledger.summary()["mutating_calls"] == ["sqs:CreateQueue"]


def test_fetcher_makes_each_distinct_request_once(emulator: EmulatorProcess) -> None:
    guarded = access(emulator)
    fetch = Fetcher(guarded)
    barrier = threading.Barrier(8)
    answers: list[object] = []

    def ask() -> None:
        barrier.wait()
        answers.append(fetch.call("sqs", "us-east-1", "list_queues"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    fetch.call("sqs", "us-east-1", "list_queues", QueueNamePrefix="x")
    summary = guarded.ledger.summary()
    assert len(answers) == 8
    assert summary["total_calls"] == 2 == summary["distinct_requests"]
    assert summary["repeated_requests"] == []


def test_fetcher_pages_through_every_page(emulator: EmulatorProcess) -> None:
    ddb = EmulatorControl(emulator.endpoint).client("dynamodb")
    for n in range(105):  # list_tables answers 100 names a page
        ddb.create_table(
            TableName=f"page-{n:03d}",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    guarded = access(emulator)
    names = Fetcher(guarded).pages("dynamodb", "us-east-1", "list_tables", "TableNames")
    assert len([n for n in names if n.startswith("page-")]) == 105
    assert guarded.ledger.summary()["by_operation"]["dynamodb:ListTables"] == 2


def test_failures_are_classified_and_remembered(emulator: EmulatorProcess) -> None:
    guarded = access(emulator)
    fetch = Fetcher(guarded)
    for _ in range(2):
        with pytest.raises(FetchError) as info:
            fetch.call("sqs", "us-east-1", "get_queue_attributes", QueueUrl="nope")
        assert info.value.kind is FailureKind.FAILED
    assert guarded.ledger.summary()["total_calls"] == 1


def test_unreachable_endpoint_is_a_fetch_error() -> None:
    env = environment().model_copy(update={"max_attempts": 1, "connect_timeout_s": 0.5})
    dead = AwsAccess(env, endpoint_url="http://127.0.0.1:9", read_only=True)
    with pytest.raises(FetchError) as info:
        Fetcher(dead).call("sqs", "us-east-1", "list_queues")
    assert info.value.kind is FailureKind.UNREACHABLE


def test_iam_policy_lists_exactly_the_actions_used(emulator: EmulatorProcess) -> None:
    guarded = access(emulator)
    fetch = Fetcher(guarded)
    fetch.call("s3", "us-east-1", "list_buckets")
    fetch.call("sqs", "us-east-1", "list_queues")
    fetch.call("sts", "us-east-1", "get_caller_identity")
    policy = guarded.ledger.iam_policy()
    assert policy["Statement"][0]["Action"] == [
        "s3:ListAllMyBuckets",
        "sqs:ListQueues",
        "sts:GetCallerIdentity",
    ]


def test_the_credential_chain_may_run_but_is_never_in_the_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile sso-prod]\nsso_session = corp\nsso_account_id = 123456789012\n"
        "sso_role_name = Audit\nregion = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    role = "arn:aws:iam::123456789012:role/readiness-audit"
    real = Environment(name="p", account_id="123456789012", regions=["us-east-1"], role_arn=role)
    sso = Environment(
        name="s", account_id="123456789012", regions=["us-east-1"], profile="sso-prod"
    )
    assert credential_operations(real) == {"sts:AssumeRole"}
    assert credential_operations(sso) == {"sso:GetRoleCredentials", "sso-oidc:CreateToken"}
    assert credential_operations(environment()) == frozenset()  # the emulator: static keys
    policy = phase_policy(["audit"]).with_credentials(credential_operations(real))
    assert policy.judge("sts:AssumeRole", "AssumeRole", frozenset()) == "credentials"
    assert phase_policy(["audit"]).judge("sts:AssumeRole", "AssumeRole", frozenset()) is None
