"""Elastic Load Balancing v2: load balancers with attributes, tags and WAF association.

A record is DescribeLoadBalancers' entry plus `Attributes` (key -> value; AWS gives every
value as a string: "true"/"false"), `Tags`, and for an internet-facing application load
balancer `WebACL`: the ARN, name and id of the WAFv2 web ACL associated with it, or None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict
from readiness.inventory.model import Resource

DESCRIBE_TAGS_BATCH = 20  # DescribeTags takes at most 20 ARNs a call


def is_public_alb(lb: Mapping[str, Any] | Resource) -> bool:
    """Internet-facing application load balancers: the ones WAF can and should front."""
    return lb.get("Type") == "application" and lb.get("Scheme") == "internet-facing"


def _tags_reader(
    ctx: CollectContext, region: str, arns: list[str], arn: str
) -> Callable[[], dict[str, str]]:
    index = arns.index(arn)
    start = index - index % DESCRIBE_TAGS_BATCH
    batch = arns[start : start + DESCRIBE_TAGS_BATCH]

    def read() -> dict[str, str]:
        answer = ctx.fetch.call("elbv2", region, "describe_tags", ResourceArns=batch)
        for entry in answer.get("TagDescriptions", []):
            if entry.get("ResourceArn") == arn:
                return tag_dict(entry.get("Tags"))
        return {}

    return read


def _web_acl_reader(ctx: CollectContext, region: str, arn: str) -> Callable[[], Any]:
    def read() -> dict[str, Any] | None:
        answer = ctx.fetch.call("wafv2", region, "get_web_acl_for_resource", ResourceArn=arn)
        acl = answer.get("WebACL")
        if not acl:
            return None
        return {"ARN": acl.get("ARN"), "Name": acl.get("Name"), "Id": acl.get("Id")}

    return read


@collector(
    "elbv2.load_balancers",
    phases=("audit",),
    reads=(
        "elbv2:DescribeLoadBalancerAttributes",
        "elbv2:DescribeLoadBalancers",
        "elbv2:DescribeTags",
        "wafv2:GetWebACLForResource",
    ),
)
def load_balancers(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Application, network and gateway load balancers with attributes, tags and web ACL."""
    lbs = ctx.fetch.pages("elbv2", region, "describe_load_balancers", "LoadBalancers")
    arns = [str(lb["LoadBalancerArn"]) for lb in lbs]

    def describe(lb: dict[str, Any]) -> Found:
        arn = str(lb["LoadBalancerArn"])
        found = Found(id=str(lb["LoadBalancerName"]), arn=arn, data=dict(lb))
        found.enrich(
            "Attributes",
            lambda: {
                str(a["Key"]): str(a.get("Value", ""))
                for a in ctx.fetch.call(
                    "elbv2", region, "describe_load_balancer_attributes", LoadBalancerArn=arn
                ).get("Attributes", [])
            },
        )
        found.enrich("Tags", _tags_reader(ctx, region, arns, arn))
        tags = found.data.get("Tags")
        found.tags = dict(tags) if isinstance(tags, dict) else None
        if is_public_alb(lb):
            found.enrich("WebACL", _web_acl_reader(ctx, region, arn))
        return found

    return ctx.each(lbs, describe)


COLLECTORS = (load_balancers,)
