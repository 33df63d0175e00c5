"""SQS queues with their attributes and tags."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector

HEALTH = ("preflight", "audit", "postdeploy", "deploy")


@collector("sqs.queues", phases=HEALTH)
def sqs_queues(ctx: CollectContext, region: str) -> Iterable[Found]:
    """SQS queues with all their attributes and tags."""
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

    return ctx.each(urls, describe)


COLLECTORS = (sqs_queues,)
