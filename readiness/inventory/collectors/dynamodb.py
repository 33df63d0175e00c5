"""DynamoDB tables with backups, TTL and tags."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

HEALTH = ("preflight", "audit", "postdeploy", "deploy")


@collector(
    "dynamodb.tables",
    phases=HEALTH,
    reads=(
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:ListTables",
        "dynamodb:ListTagsOfResource",
    ),
)
def dynamodb_tables(ctx: CollectContext, region: str) -> Iterable[Found]:
    """DynamoDB tables: description, continuous backups, TTL and tags."""
    names = ctx.fetch.pages("dynamodb", region, "list_tables", "TableNames")

    def describe(name: str) -> Found:
        table = ctx.fetch.call("dynamodb", region, "describe_table", TableName=name)["Table"]
        found = Found(id=name, arn=table.get("TableArn"), data=table)
        found.enrich(
            "ContinuousBackups",
            lambda: ctx.fetch.call(
                "dynamodb", region, "describe_continuous_backups", TableName=name
            ).get("ContinuousBackupsDescription", {}),
        )
        found.enrich(
            "TimeToLive",
            lambda: ctx.fetch.call("dynamodb", region, "describe_time_to_live", TableName=name).get(
                "TimeToLiveDescription", {}
            ),
        )
        found.enrich(
            "Tags",
            lambda: ctx.fetch.pages(
                "dynamodb", region, "list_tags_of_resource", "Tags", ResourceArn=table["TableArn"]
            ),
        )
        tags = found.data.get("Tags")
        found.tags = tag_dict(tags) if isinstance(tags, list) else None
        return found

    return ctx.each(names, describe)


COLLECTORS = (dynamodb_tables,)
