"""RDS DB instances, and where a setting lives for members of a DB cluster.

An Aurora (or Multi-AZ DB cluster) member reports some settings on its own record that
AWS actually keeps, and applies, on the cluster: deletion protection, backups, storage
encryption and Multi-AZ. A member therefore carries its cluster's description under
`DBCluster`, and `setting()` answers from the record that governs the key.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from readiness.aws.errors import FailureKind, FetchError
from readiness.inventory.collect import CollectContext, Found, collector, tag_dict
from readiness.inventory.model import NotEvaluated, Resource

CLUSTER = "DBCluster"
CLUSTER_SCOPED = frozenset(
    {"MultiAZ", "DeletionProtection", "BackupRetentionPeriod", "StorageEncrypted", "KmsKeyId"}
)


@collector(
    "rds.db_instances",
    phases=("audit", "postdeploy", "deploy"),
    reads=("rds:DescribeDBClusters", "rds:DescribeDBInstances"),
)
def db_instances(ctx: CollectContext, region: str) -> Iterable[Found]:
    """RDS DB instances (TagList as tags); a cluster member also carries its cluster."""
    found = [
        Found(
            id=db["DBInstanceIdentifier"],
            arn=db.get("DBInstanceArn"),
            data=db,
            tags=tag_dict(db.get("TagList")),
        )
        for db in ctx.fetch.pages("rds", region, "describe_db_instances", "DBInstances")
    ]

    def cluster_of(identifier: str) -> dict[str, Any]:
        clusters = ctx.fetch.pages("rds", region, "describe_db_clusters", "DBClusters")
        for cluster in clusters:
            if cluster.get("DBClusterIdentifier") == identifier:
                return {k: v for k, v in cluster.items() if k != "DBClusterMembers"}
        raise FetchError(
            FailureKind.FAILED, "rds:DescribeDBClusters", f"cluster {identifier} is not listed"
        )

    for item in found:
        identifier = item.data.get("DBClusterIdentifier")
        if identifier:
            item.enrich(CLUSTER, functools.partial(cluster_of, str(identifier)))
    return found


def is_cluster_member(resource: Resource) -> bool:
    return bool(resource.get("DBClusterIdentifier"))


def is_read_replica(resource: Resource) -> bool:
    """A replica of another instance (backups and restores happen on its source)."""
    return bool(
        resource.get("ReadReplicaSourceDBInstanceIdentifier")
        or resource.get("ReadReplicaSourceDBClusterIdentifier")
    )


def cluster(resource: Resource) -> dict[str, Any]:
    """The member's cluster as DescribeDBClusters described it; NotEvaluated if unread."""
    described = resource.need(CLUSTER)
    if not isinstance(described, dict):
        raise NotEvaluated(f"{resource.label}: its DB cluster was not described")
    return described


def setting(resource: Resource, key: str) -> tuple[Any, str]:
    """The value of `key` that AWS applies to this instance, and whose record holds it."""
    if key in CLUSTER_SCOPED and is_cluster_member(resource):
        described = cluster(resource)
        return described.get(
            key
        ), f"{resource.label} (cluster {described.get('DBClusterIdentifier')})"
    return resource.get(key), resource.label


COLLECTORS = (db_instances,)
