"""EC2 network and account settings per region: security groups, VPCs with their flow
logs, and EBS encryption by default (one record, `ebs-encryption-by-default`).

Default VPCs are VPCs like any other: they carry traffic when something is launched
into them, so they are listed and judged too (`IsDefault` says which one it is).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

AUDIT = ("audit",)
EBS_RECORD = "ebs-encryption-by-default"


@collector("ec2.security_groups", phases=AUDIT, reads=("ec2:DescribeSecurityGroups",))
def security_groups(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Security groups with their ingress and egress rules."""
    for group in ctx.fetch.pages("ec2", region, "describe_security_groups", "SecurityGroups"):
        yield Found(
            id=str(group["GroupId"]),
            arn=group.get("SecurityGroupArn"),
            data=group,
            tags=tag_dict(group.get("Tags")),
        )


@collector("ec2.vpcs", phases=AUDIT, reads=("ec2:DescribeFlowLogs", "ec2:DescribeVpcs"))
def vpcs(ctx: CollectContext, region: str) -> Iterable[Found]:
    """VPCs, each with the flow logs attached to it under `FlowLogs`."""
    listed = ctx.fetch.pages("ec2", region, "describe_vpcs", "Vpcs")
    flow_logs = ctx.fetch.pages("ec2", region, "describe_flow_logs", "FlowLogs")
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for flow_log in flow_logs:
        by_resource.setdefault(str(flow_log.get("ResourceId")), []).append(flow_log)
    for vpc in listed:
        vpc_id = str(vpc["VpcId"])
        yield Found(
            id=vpc_id,
            arn=f"arn:aws:ec2:{region}:{vpc.get('OwnerId', ctx.env.account_id)}:vpc/{vpc_id}",
            data={**vpc, "FlowLogs": by_resource.get(vpc_id, [])},
            tags=tag_dict(vpc.get("Tags")),
        )


@collector("ec2.ebs_encryption_by_default", phases=AUDIT, reads=("ec2:GetEbsEncryptionByDefault",))
def ebs_encryption_by_default(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Whether new EBS volumes of the region are encrypted by default."""
    answer = ctx.fetch.call("ec2", region, "get_ebs_encryption_by_default")
    yield Found(
        id=EBS_RECORD, data={"EbsEncryptionByDefault": answer.get("EbsEncryptionByDefault")}
    )


def name_of(resource_tags: Any) -> str | None:
    """The Name tag of an EC2 resource, if any."""
    return tag_dict(resource_tags).get("Name")


COLLECTORS = (security_groups, vpcs, ebs_encryption_by_default)
