"""Compute: the ECS cluster (services, load balancer, WAF, Lambda follow).

demo-risky / demo-broken: no defect here yet.
"""

from __future__ import annotations

from readiness.emulator.seeds import TAGS, Stack

ORDER = 30
CLUSTER = "prod-cluster"


def seed(stack: Stack) -> None:
    ecs = stack.client("ecs")
    ecs.create_cluster(
        clusterName=CLUSTER,
        settings=[{"name": "containerInsights", "value": "enabled"}],
        tags=[{"key": k, "value": v} for k, v in TAGS.items()],
    )
    stack.count("ecs.clusters")
