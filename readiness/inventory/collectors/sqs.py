"""SQS queues with their attributes, tags and dead-letter relationships.

Which queue is a dead-letter queue is not an attribute of that queue: it follows from
the other queues' RedrivePolicy (a DLQ lives in the same account and region as its
sources). So once a region's queues are described, each record also gets:

- `DeadLetterSourceQueues`: the URLs of the queues that send their failures to it
  (what ListDeadLetterSourceQueues would say, without one more call per queue);
- `DeadLetterTargetExists`: for a queue with a RedrivePolicy, whether its target is
  a queue of this region (decided before any scope filter drops a queue).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.model import Resource

HEALTH = ("preflight", "audit", "postdeploy", "deploy")
SOURCES = "DeadLetterSourceQueues"
TARGET_EXISTS = "DeadLetterTargetExists"


def redrive_policy(attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    """RedrivePolicy as a dict (AWS returns it as a JSON string); None when absent."""
    raw = attributes.get("RedrivePolicy")
    if not raw:
        return None
    if isinstance(raw, dict):
        return dict(raw)
    try:
        parsed = json.loads(str(raw))
    except ValueError:
        return {"unparseable": str(raw)}
    return parsed if isinstance(parsed, dict) else {"unparseable": str(raw)}


def is_dead_letter_queue(resource: Resource) -> bool:
    return bool(resource.get(SOURCES))


@collector(
    "sqs.queues",
    phases=HEALTH,
    reads=("sqs:GetQueueAttributes", "sqs:ListQueueTags", "sqs:ListQueues"),
)
def sqs_queues(ctx: CollectContext, region: str) -> Iterable[Found]:
    """SQS queues with all their attributes, tags and dead-letter relationships."""
    urls = ctx.fetch.pages("sqs", region, "list_queues", "QueueUrls")

    def describe(url: str) -> Found:
        attributes = ctx.fetch.call(
            "sqs", region, "get_queue_attributes", QueueUrl=url, AttributeNames=["All"]
        ).get("Attributes", {})
        name = url.rstrip("/").rsplit("/", 1)[-1]
        found = Found(id=name, arn=attributes.get("QueueArn"), data={"QueueUrl": url, **attributes})
        found.enrich(
            "Tags",
            lambda: ctx.fetch.call("sqs", region, "list_queue_tags", QueueUrl=url).get("Tags", {}),
        )
        tags = found.data.get("Tags")
        found.tags = dict(tags) if isinstance(tags, dict) else None
        return found

    queues = ctx.each(urls, describe)
    link_dead_letter_queues(queues)
    return queues


def link_dead_letter_queues(queues: list[Found]) -> None:
    """Fill in the two derived fields from every queue's RedrivePolicy."""
    by_arn = {q.arn: q for q in queues if q.arn}
    for queue in queues:
        queue.data[SOURCES] = []
    for queue in queues:
        policy = redrive_policy(queue.data)
        if policy is None:
            continue
        target = by_arn.get(str(policy.get("deadLetterTargetArn", "")))
        queue.data[TARGET_EXISTS] = target is not None
        if target is not None:
            target.data[SOURCES].append(queue.data["QueueUrl"])


COLLECTORS = (sqs_queues,)
