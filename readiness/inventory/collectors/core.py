"""What the quick health check reads: regions, ECS clusters, SQS queues, DynamoDB
tables, budgets (seed step 2)."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

HEALTH = ("preflight", "audit", "postdeploy", "deploy")


@collector("region.zones", phases=("preflight", "audit"))
def region_zones(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The region answers: its availability zones."""
    zones = ctx.fetch.call("ec2", region, "describe_availability_zones")["AvailabilityZones"]
    yield Found(
        id="zones", data={"Zones": [z["ZoneName"] for z in zones if z.get("State") == "available"]}
    )


@collector("ecs.clusters", phases=HEALTH)
def ecs_clusters(ctx: CollectContext, region: str) -> Iterable[Found]:
    """ECS clusters with their settings and tags."""
    arns = ctx.fetch.pages("ecs", region, "list_clusters", "clusterArns")
    for start in range(0, len(arns), 100):
        batch = arns[start : start + 100]
        answer = ctx.fetch.call(
            "ecs", region, "describe_clusters", clusters=batch, include=["SETTINGS", "TAGS"]
        )
        for cluster in answer.get("clusters", []):
            yield Found(
                id=cluster["clusterName"],
                arn=cluster.get("clusterArn"),
                data=cluster,
                tags=tag_dict(cluster.get("tags"), "key", "value"),
            )


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


@collector("dynamodb.tables", phases=HEALTH)
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


@collector("budgets.budgets", phases=HEALTH, scope="global")
def budgets(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Budgets of the account, with their notifications and subscribers."""
    account = ctx.env.account_id
    rows = ctx.fetch.pages("budgets", "global", "describe_budgets", "Budgets", AccountId=account)

    def describe(budget: dict[str, object]) -> Found:
        name = str(budget["BudgetName"])
        found = Found(id=name, data=dict(budget))

        def notifications() -> list[dict[str, object]]:
            out = []
            for n in ctx.fetch.pages(
                "budgets",
                "global",
                "describe_notifications_for_budget",
                "Notifications",
                AccountId=account,
                BudgetName=name,
            ):
                subscribers = ctx.fetch.pages(
                    "budgets",
                    "global",
                    "describe_subscribers_for_notification",
                    "Subscribers",
                    AccountId=account,
                    BudgetName=name,
                    Notification=n,
                )
                out.append({**n, "Subscribers": subscribers})
            return out

        found.enrich("Notifications", notifications)
        return found

    return ctx.each(rows, describe)


COLLECTORS = (region_zones, ecs_clusters, sqs_queues, dynamodb_tables, budgets)
