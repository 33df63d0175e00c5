"""WAFv2 web ACLs of regional scope (the ones that protect load balancers and APIs).

A record is GetWebACL's `WebACL` (rules included), its id the web ACL's name. Which
resource a web ACL protects is read from the resource's side (`elbv2.load_balancers`
carries `WebACL`), as WAF's ListResourcesForWebACL is a per-type listing anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

SCOPE = "REGIONAL"


def list_regional_web_acls(ctx: CollectContext, region: str) -> list[dict[str, Any]]:
    """ListWebACLs has no paginator in botocore: follow NextMarker by hand."""
    acls: list[dict[str, Any]] = []
    marker: str | None = None
    seen: set[str] = set()
    while True:
        params: dict[str, Any] = {"Scope": SCOPE}
        if marker:
            params["NextMarker"] = marker
        answer = ctx.fetch.call("wafv2", region, "list_web_acls", **params)
        page = answer.get("WebACLs") or []
        acls.extend(page)
        marker = answer.get("NextMarker")
        if not marker or not page or marker in seen:
            return acls
        seen.add(marker)


@collector("wafv2.web_acls", phases=("audit",), reads=("wafv2:GetWebACL", "wafv2:ListWebACLs"))
def web_acls(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Regional WAFv2 web ACLs with their rules."""
    summaries = list_regional_web_acls(ctx, region)

    def describe(summary: dict[str, Any]) -> Found:
        answer = ctx.fetch.call(
            "wafv2", region, "get_web_acl", Name=summary["Name"], Scope=SCOPE, Id=summary["Id"]
        )
        acl = dict(answer.get("WebACL") or {})
        return Found(id=str(summary["Name"]), arn=acl.get("ARN") or summary.get("ARN"), data=acl)

    return ctx.each(summaries, describe)


COLLECTORS = (web_acls,)
