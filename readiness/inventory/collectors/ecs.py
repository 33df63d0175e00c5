"""ECS: clusters, and the services that run on them.

A service record is DescribeServices' answer with its `events` cut to the 20 most recent
(AWS lists them newest first), plus `ClusterName` and `SubnetZones` (subnet id -> its
availability zone, for the subnets of the awsvpc configuration). Its id is
`cluster/service`, the way ECS and Application Auto Scaling name it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from readiness.aws.errors import FailureKind, FetchError
from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

HEALTH = ("preflight", "audit", "postdeploy", "deploy")
DESCRIBE_SERVICES_BATCH = 10  # DescribeServices takes at most 10 services a call
EVENTS_KEPT = 20


@collector("ecs.clusters", phases=HEALTH, reads=("ecs:DescribeClusters", "ecs:ListClusters"))
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


def subnet_zones(ctx: CollectContext, region: str) -> dict[str, str]:
    """Every subnet of the region and its AZ (one paginated read, shared with others)."""
    subnets = ctx.fetch.pages("ec2", region, "describe_subnets", "Subnets")
    return {s["SubnetId"]: s.get("AvailabilityZone", "") for s in subnets if "SubnetId" in s}


def service_subnets(service: dict[str, Any]) -> list[str]:
    vpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    return [str(s) for s in vpc.get("subnets") or []]


def _describe(ctx: CollectContext, region: str, cluster_arn: str) -> list[dict[str, Any]]:
    arns = ctx.fetch.pages("ecs", region, "list_services", "serviceArns", cluster=cluster_arn)
    services: list[dict[str, Any]] = []
    for start in range(0, len(arns), DESCRIBE_SERVICES_BATCH):
        answer = ctx.fetch.call(
            "ecs",
            region,
            "describe_services",
            cluster=cluster_arn,
            services=arns[start : start + DESCRIBE_SERVICES_BATCH],
            include=["TAGS"],
        )
        # MISSING: deleted between the list and the describe; anything else is a read we lack.
        failures = [f for f in answer.get("failures", []) if f.get("reason") != "MISSING"]
        if failures:
            first = failures[0]
            raise FetchError(
                FailureKind.FAILED,
                "ecs:DescribeServices",
                f"{first.get('arn', '?')}: {first.get('reason', '?')} {first.get('detail', '')}",
            )
        services.extend(answer.get("services", []))
    return services


def _zones_of(
    ctx: CollectContext, region: str, subnets: list[str]
) -> Callable[[], dict[str, str | None]]:
    def read() -> dict[str, str | None]:
        zones = subnet_zones(ctx, region)
        return {s: zones.get(s) for s in subnets}

    return read


@collector(
    "ecs.services",
    phases=("audit", "postdeploy"),
    reads=("ec2:DescribeSubnets", "ecs:DescribeServices", "ecs:ListClusters", "ecs:ListServices"),
)
def ecs_services(ctx: CollectContext, region: str) -> Iterable[Found]:
    """ECS services of every cluster, with tags and the AZs of their subnets."""
    clusters = ctx.fetch.pages("ecs", region, "list_clusters", "clusterArns")
    per_cluster = ctx.each(clusters, lambda arn: _describe(ctx, region, arn))
    found: list[Found] = []
    for cluster_arn, services in zip(clusters, per_cluster, strict=True):
        cluster_name = str(cluster_arn).rsplit("/", 1)[-1]
        for service in services:
            data = dict(service)
            data["events"] = list(service.get("events") or [])[:EVENTS_KEPT]
            data["ClusterName"] = cluster_name
            record = Found(
                id=f"{cluster_name}/{service['serviceName']}",
                arn=service.get("serviceArn"),
                data=data,
                tags=tag_dict(service.get("tags"), "key", "value"),
            )
            subnets = service_subnets(service)
            if subnets:
                record.enrich("SubnetZones", _zones_of(ctx, region, subnets))
            found.append(record)
    return found


COLLECTORS = (ecs_clusters, ecs_services)
