"""SNS topics and their subscriptions: where alarms send their notifications.

Kind `sns.topics`: one record per topic (id: the topic name) with `TopicArn` and
`Subscriptions`, read with ListSubscriptionsByTopic through every page. Each
subscription keeps `Protocol`, `SubscriptionArn` and `Confirmed` only: the endpoint (an
e-mail address, a phone number, a URL) is personal data and is not kept.

A subscription is confirmed when its SubscriptionArn is a real ARN: AWS lists one still
waiting for its confirmation with the literal SubscriptionArn `PendingConfirmation` (and
one being removed as `Deleted`). The topic attribute `SubscriptionsConfirmed` is not
used: it is refreshed by AWS only about every six hours (and the emulator never counts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

KIND = "sns.topics"
PENDING = ("PendingConfirmation", "Deleted")


def subscription(raw: Mapping[str, Any]) -> dict[str, Any]:
    arn = str(raw.get("SubscriptionArn") or "")
    return {
        "Protocol": raw.get("Protocol"),
        "SubscriptionArn": arn,
        "Confirmed": arn.startswith("arn:"),
    }


@collector(
    KIND,
    phases=("audit",),
    reads=("sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:ListTopics"),
)
def sns_topics(ctx: CollectContext, region: str) -> Iterable[Found]:
    """SNS topics with their subscriptions (protocol and confirmation, never the endpoint)."""
    arns = [t["TopicArn"] for t in ctx.fetch.pages("sns", region, "list_topics", "Topics")]

    def describe(arn: str) -> Found:
        found = Found(id=arn.rsplit(":", 1)[-1], arn=arn, data={"TopicArn": arn})
        found.enrich(
            "Subscriptions",
            lambda: [
                subscription(s)
                for s in ctx.fetch.pages(
                    "sns", region, "list_subscriptions_by_topic", "Subscriptions", TopicArn=arn
                )
            ],
        )
        found.enrich(
            "Tags",
            lambda: tag_dict(
                ctx.fetch.call("sns", region, "list_tags_for_resource", ResourceArn=arn).get("Tags")
            ),
        )
        tags = found.data.get("Tags")
        found.tags = dict(tags) if isinstance(tags, dict) else None
        return found

    return ctx.each(arns, describe)


def confirmed(topic: Resource) -> list[dict[str, Any]]:
    """The topic's confirmed subscriptions; NotEvaluated if they could not be read."""
    subscriptions = topic.need("Subscriptions")
    if subscriptions is None:
        raise NotEvaluated(f"{topic.label}: its subscriptions were not read")
    return [s for s in subscriptions if s.get("Confirmed") is True]


def topic_by_arn(snapshot: Snapshot, arn: str) -> Resource | None:
    """The topic with this ARN, if read; NotEvaluated if its region could not be read or
    is not one this run reads."""
    parts = arn.split(":")
    region = parts[3] if len(parts) > 5 else ""
    if region not in snapshot.target.regions:
        raise NotEvaluated(f"topic {arn} is in {region or 'an unknown region'}, not read")
    for gap in snapshot.gaps(KIND):
        if gap.region == region:
            raise NotEvaluated(gap.message())
    for topic in snapshot.resources(KIND):
        if topic.arn == arn:
            return topic
    return None


COLLECTORS = (sns_topics,)
