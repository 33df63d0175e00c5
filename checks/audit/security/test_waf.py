"""WAF on the public entry points: a rate-based rule that blocks floods of requests."""

from typing import Any

import pytest

from readiness.config import Environment
from readiness.inventory.collectors.elbv2 import is_public_alb
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.audit]

ACLS = "wafv2.web_acls"
ENFORCING = ("Block", "Captcha", "Challenge")  # Count only observes


def public_alb(resource: Resource, env: Environment) -> bool:
    return is_public_alb(resource)


def web_acl(inventory: Snapshot, region: str, arn: str) -> Resource:
    for gap in inventory.gaps(ACLS):
        if gap.region == region:
            raise NotEvaluated(gap.message())
    for acl in inventory.resources(ACLS):
        if acl.region == region and acl.arn == arn:
            return acl
    raise NotEvaluated(f"web ACL {arn} is associated but was not among {region}'s web ACLs")


def rate_rules(acl: Resource) -> list[dict[str, Any]]:
    return [
        rule
        for rule in acl.get("Rules") or []
        if "RateBasedStatement" in (rule.get("Statement") or {})
    ]


@pytest.mark.warning
@pytest.mark.check(
    id="waf-rate-limit-public-alb",
    title="Internet-facing load balancers are behind a WAF web ACL with a blocking rate-based rule",
    category="security",
    risk="Without a rate-based rule a single client can flood the public entry point "
    "(credential stuffing, scraping, application-layer DoS) and every request reaches "
    "the service; a rule in Count mode only measures it.",
    remediation="aws wafv2 associate-web-acl --web-acl-arn ACL_ARN --resource-arn ALB_ARN, "
    'with a rule {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}, '
    '"Action": {"Block": {}}} (terraform: aws_wafv2_web_acl rate_based_statement + '
    "aws_wafv2_web_acl_association)",
    references=[
        "https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/alb-waf-enabled.html",
    ],
)
@pytest.mark.resources("elbv2.load_balancers", where=public_alb)
def test_waf_rate_limit_public_alb(resource: Resource, inventory: Snapshot) -> None:
    association = resource.need("WebACL")
    assert association, f"{resource.label} is internet-facing and has no WAF web ACL"
    acl = web_acl(inventory, resource.region, str(association.get("ARN")))
    rules = rate_rules(acl)
    assert rules, f"{resource.label}: web ACL {acl.id} has no rate-based rule"
    enforcing = [r for r in rules if any(k in (r.get("Action") or {}) for k in ENFORCING)]
    assert enforcing, (
        f"{resource.label}: the rate-based rules of web ACL {acl.id} "
        f"({', '.join(str(r.get('Name')) for r in rules)}) only count, they block nothing"
    )
