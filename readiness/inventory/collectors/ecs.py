"""ECS: clusters (and, with the infrastructure checks, services)."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

HEALTH = ("preflight", "audit", "postdeploy", "deploy")


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


COLLECTORS = (ecs_clusters,)
