"""Every tagged resource of the account, through the Resource Groups Tagging API.

Kind `tagging.resources` (read once for all regions): one record per resource ARN from
GetResources, every page, in each configured region, with `Region`, `Service`,
`ResourceType` and `Tags`. It covers whatever the Tagging API lists: ECS, RDS,
DynamoDB, SQS, SNS, Lambda, CloudWatch alarms, Logs, S3, KMS, ELB, EC2, Secrets Manager,
Backup and more; not IAM, Budgets or Synthetics.

GetResources lists only resources that carry a tag or once did: a resource that was
never tagged is not in it at all. S3 bucket ARNs carry no region; the emulator lists
every bucket in every region, so a region-less ARN is kept once.
"""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

KIND = "tagging.resources"


def describe_arn(arn: str) -> tuple[str, str, str]:
    """(service, region, resource type) of an ARN: arn:partition:service:region:account:..."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "", "", ""
    service, region, rest = parts[2], parts[3], parts[5]
    kind = rest.split("/", 1)[0] if "/" in rest else rest.split(":", 1)[0]
    return service, region, f"{service}:{kind}" if kind != rest else service


@collector(
    KIND, phases=("audit",), scope="global", reads=("resourcegroupstaggingapi:GetResources",)
)
def tagged_resources(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Resources of every configured region with their tags (Tagging API GetResources)."""
    seen: dict[str, Found] = {}
    for where in ctx.env.regions:
        for item in ctx.fetch.pages(
            "resourcegroupstaggingapi",
            where,
            "get_resources",
            "ResourceTagMappingList",
            ResourcesPerPage=100,
        ):
            arn = str(item["ResourceARN"])
            if arn in seen:
                continue
            service, arn_region, kind = describe_arn(arn)
            tags = tag_dict(item.get("Tags"))
            seen[arn] = Found(
                id=arn,
                arn=arn,
                data={
                    "Region": arn_region or where,
                    "Service": service,
                    "ResourceType": kind,
                    "Tags": tags,
                },
                tags=tags,
            )
    return list(seen.values())


COLLECTORS = (tagged_resources,)
