"""Application Auto Scaling: the scalable targets of ECS services.

A record is one DescribeScalableTargets entry; its id is the target's ResourceId
(`service/CLUSTER/SERVICE`), followed by `|DIMENSION` for any dimension other than
`ecs:service:DesiredCount` (the only one ECS has today).
"""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector

DESIRED_COUNT = "ecs:service:DesiredCount"


@collector(
    "autoscaling.ecs_targets",
    phases=("audit",),
    reads=("application-autoscaling:DescribeScalableTargets",),
)
def ecs_scalable_targets(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Application Auto Scaling targets of ECS services (min and max capacity)."""
    targets = ctx.fetch.pages(
        "application-autoscaling",
        region,
        "describe_scalable_targets",
        "ScalableTargets",
        ServiceNamespace="ecs",
    )
    for target in targets:
        resource_id = str(target["ResourceId"])
        dimension = target.get("ScalableDimension", DESIRED_COUNT)
        yield Found(
            id=resource_id if dimension == DESIRED_COUNT else f"{resource_id}|{dimension}",
            arn=target.get("ScalableTargetARN"),
            data=target,
        )


COLLECTORS = (ecs_scalable_targets,)
