"""The SQS checks on the emulator: redrive to an existing DLQ, maxReceiveCount, SSE, and
the alarms on work queues and DLQs; a DLQ is known from the other queues' policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from readiness.config import Thresholds
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .test_data_support import Taken, alarm, checks_of, outcome, snapshot

KINDS = ("sqs.queues", "cloudwatch.metric_alarms")
MISSING_DLQ = "arn:aws:sqs:us-east-1:123456789012:deleted-dlq"


@dataclass
class Stack:
    taken: Taken
    alarms_denied: Taken
    checks: dict[str, Any]


def _queue(sqs: Any, name: str, **attributes: str) -> str:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
    )


def _redrive(target: str, receives: Any) -> str:
    return json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": receives})


@pytest.fixture(scope="module")
def stack(pytestconfig: pytest.Config) -> Iterator[Stack]:
    checks = checks_of(
        pytestconfig,
        "audit/infrastructure/test_sqs.py",
        "audit/security/test_data_encryption.py",
        "audit/monitoring/test_data_alarms.py",
    )
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        sqs = control.client("sqs")
        jobs_dlq = _queue(sqs, "jobs-dlq")
        _queue(sqs, "jobs", RedrivePolicy=_redrive(jobs_dlq, 5))
        greedy_dlq = _queue(sqs, "greedy-dlq")
        _queue(sqs, "greedy", RedrivePolicy=_redrive(greedy_dlq, "50"))
        _queue(sqs, "orphan", SqsManagedSseEnabled="false")
        # A DLQ deleted after its source was pointed at it.
        _queue(sqs, "deleted-dlq")
        _queue(sqs, "dangling", RedrivePolicy=_redrive(MISSING_DLQ, 3))
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="deleted-dlq")["QueueUrl"])
        _queue(sqs, "on-kms", KmsMasterKeyId="alias/aws/sqs", SqsManagedSseEnabled="false")
        for name in ("jobs", "greedy", "dangling", "on-kms"):
            alarm(
                control,
                f"{name}-age",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                {"QueueName": name},
            )
        alarm(
            control,
            "jobs-dlq-depth",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": "jobs-dlq"},
        )
        # Right metric, wrong region: does not watch the us-east-1 queue.
        alarm(
            control,
            "greedy-dlq-depth",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": "greedy-dlq"},
            region="us-west-2",
        )
        taken = snapshot(emulator.endpoint, KINDS)
        denied = snapshot(emulator.endpoint, KINDS, denied=[("cloudwatch", "DescribeAlarms")])
        yield Stack(taken, denied, checks)


def _judge(stack: Stack, check: str, queue: str, **extra: Any) -> tuple[str, str]:
    resource = stack.taken.resource("sqs.queues", queue)
    return outcome(stack.checks[check], resource=resource, **extra)


def test_dead_letter_queues_are_known_from_the_redrive_policies(stack: Stack) -> None:
    jobs_dlq = stack.taken.resource("sqs.queues", "jobs-dlq")
    assert [u.rsplit("/", 1)[-1] for u in jobs_dlq.get("DeadLetterSourceQueues")] == ["jobs"]
    work = stack.taken.selected(stack.checks["test_sqs_redrive_policy"])
    assert work == [f"us-east-1/{q}" for q in ("dangling", "greedy", "jobs", "on-kms", "orphan")]
    dlqs = stack.taken.selected(stack.checks["test_sqs_dlq_depth_alarm"])
    assert dlqs == ["us-east-1/greedy-dlq", "us-east-1/jobs-dlq"]


@pytest.mark.parametrize(
    ("queue", "expected", "message"),
    [
        ("jobs", "passed", ""),
        ("orphan", "failed", "us-east-1/orphan has no redrive policy"),
        ("dangling", "failed", f"us-east-1/dangling redrives to {MISSING_DLQ}, which is not"),
    ],
)
def test_redrive_policy(stack: Stack, queue: str, expected: str, message: str) -> None:
    result, text = _judge(stack, "test_sqs_redrive_policy", queue)
    assert (result, text[: len(message)]) == (expected, message)


def test_max_receive_count(stack: Stack) -> None:
    ceiling = Thresholds(sqs_max_receive_count=10)
    check = "test_sqs_max_receive_count"
    assert _judge(stack, check, "jobs", thresholds=ceiling) == ("passed", "")
    result, text = _judge(stack, check, "greedy", thresholds=ceiling)
    assert result == "failed"
    assert text.startswith("us-east-1/greedy has maxReceiveCount 50 (expected 1..10)")
    # Only queues with a redrive policy are judged here.
    assert "us-east-1/orphan" not in stack.taken.selected(stack.checks[check])


@pytest.mark.parametrize(
    ("queue", "expected"), [("jobs", "passed"), ("on-kms", "passed"), ("orphan", "failed")]
)
def test_encryption(stack: Stack, queue: str, expected: str) -> None:
    result, text = _judge(stack, "test_sqs_encryption", queue)
    assert result == expected
    if expected == "failed":
        assert text.startswith(f"us-east-1/{queue} is not encrypted at rest")


def test_alarms(stack: Stack) -> None:
    inventory = stack.taken.snapshot
    age, depth = "test_sqs_oldest_message_alarm", "test_sqs_dlq_depth_alarm"
    assert _judge(stack, age, "jobs", inventory=inventory) == ("passed", "")
    result, text = _judge(stack, age, "orphan", inventory=inventory)
    assert result == "failed"
    assert text.startswith("us-east-1/orphan has no alarm on AWS/SQS ApproximateAgeOfOldestMessage")
    assert _judge(stack, depth, "jobs-dlq", inventory=inventory) == ("passed", "")
    result, text = _judge(stack, depth, "greedy-dlq", inventory=inventory)
    assert result == "failed" and text.startswith("us-east-1/greedy-dlq has no alarm")


def test_unreadable_alarms_are_not_evaluated(stack: Stack) -> None:
    queue = stack.alarms_denied.resource("sqs.queues", "jobs")
    result, text = outcome(
        stack.checks["test_sqs_oldest_message_alarm"],
        inventory=stack.alarms_denied.snapshot,
        resource=queue,
    )
    assert result == "not-evaluated"
    assert "cloudwatch.metric_alarms in us-east-1" in text and "access denied" in text


def test_each_request_once_and_read_only(stack: Stack) -> None:
    calls = stack.taken.calls
    assert calls["total_calls"] == calls["distinct_requests"] > 0
    assert calls["mutating_calls"] == []
