"""SQS failure handling: every work queue sends poison messages to an existing DLQ,
after a sane number of attempts. A queue that is itself another queue's DLQ is not
judged here (its depth is watched by an alarm instead)."""

import pytest

from readiness.config import Environment, Thresholds
from readiness.inventory.collectors.sqs import (
    TARGET_EXISTS,
    is_dead_letter_queue,
    redrive_policy,
)
from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit, pytest.mark.warning]
SQS_DOCS = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide"


def _work_queue(resource: Resource, env: Environment) -> bool:
    return not is_dead_letter_queue(resource)


def _redriven_work_queue(resource: Resource, env: Environment) -> bool:
    return _work_queue(resource, env) and redrive_policy(resource.data) is not None


@pytest.mark.check(
    id="sqs-redrive-policy",
    title="SQS work queues have a redrive policy to an existing dead-letter queue",
    category="infrastructure",
    risk="Without a DLQ a message that always fails is retried until it expires, blocking "
    "or slowing its consumers, and is then lost without a trace.",
    remediation="aws sqs set-queue-attributes --queue-url URL --attributes "
    '\'{"RedrivePolicy":"{\\"deadLetterTargetArn\\":\\"DLQ_ARN\\",'
    '\\"maxReceiveCount\\":\\"5\\"}"}\'  (terraform: redrive_policy = jsonencode({...}))',
    references=[f"{SQS_DOCS}/sqs-dead-letter-queues.html"],
)
@pytest.mark.resources("sqs.queues", where=_work_queue)
def test_sqs_redrive_policy(resource: Resource) -> None:
    policy = redrive_policy(resource.data)
    assert policy is not None, f"{resource.label} has no redrive policy (no dead-letter queue)"
    target = policy.get("deadLetterTargetArn")
    assert target, f"{resource.label} has a redrive policy without a dead-letter target"
    assert resource.get(TARGET_EXISTS) is True, (
        f"{resource.label} redrives to {target}, which is not a queue of {resource.region}"
    )


@pytest.mark.check(
    id="sqs-max-receive-count",
    title="SQS redrive policies move a message to the DLQ after a sane number of receives",
    category="infrastructure",
    risk="A high maxReceiveCount keeps a poison message cycling through consumers for a long "
    "time; zero or less is not a working policy.",
    remediation="Set maxReceiveCount between 1 and thresholds.sqs_max_receive_count in the "
    "queue's RedrivePolicy (aws sqs set-queue-attributes ...).",
    references=[f"{SQS_DOCS}/sqs-configure-dead-letter-queue.html"],
)
@pytest.mark.resources("sqs.queues", where=_redriven_work_queue)
def test_sqs_max_receive_count(resource: Resource, thresholds: Thresholds) -> None:
    policy = redrive_policy(resource.data) or {}
    ceiling = thresholds.sqs_max_receive_count
    raw = policy.get("maxReceiveCount")
    try:
        count = int(raw)  # AWS returns a number; older policies hold a string
    except (TypeError, ValueError):
        count = None
    assert count is not None, f"{resource.label} has no valid maxReceiveCount ({raw!r})"
    assert 1 <= count <= ceiling, (
        f"{resource.label} has maxReceiveCount {count} (expected 1..{ceiling})"
    )
