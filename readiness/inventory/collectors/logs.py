"""CloudWatch Logs log groups: retention and tags.

Kind `logs.log_groups`: one record per log group (id: its name), DescribeLogGroups'
entry unchanged. `retentionInDays` is absent when the group never expires its events
(AWS's default). Tags come from ListTagsForResource on the group's ARN (without the
trailing `:*` that `arn` carries); a failed read leaves the tags unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

KIND = "logs.log_groups"


def _arn(group: dict[str, Any]) -> str | None:
    arn = group.get("logGroupArn") or group.get("arn")
    return str(arn).removesuffix(":*") if arn else None


@collector(KIND, phases=("audit",), reads=("logs:DescribeLogGroups", "logs:ListTagsForResource"))
def log_groups(ctx: CollectContext, region: str) -> Iterable[Found]:
    """CloudWatch Logs log groups with their retention and tags."""
    groups = ctx.fetch.pages("logs", region, "describe_log_groups", "logGroups")

    def describe(group: dict[str, Any]) -> Found:
        arn = _arn(group)
        found = Found(id=str(group["logGroupName"]), arn=arn, data=dict(group))
        if arn is not None:
            found.enrich(
                "Tags",
                lambda: dict(
                    ctx.fetch.call("logs", region, "list_tags_for_resource", resourceArn=arn).get(
                        "tags"
                    )
                    or {}
                ),
            )
            tags = found.data.get("Tags")
            found.tags = dict(tags) if isinstance(tags, dict) else None
        return found

    return ctx.each(groups, describe)


COLLECTORS = (log_groups,)
