"""Load balancers (ELBv2): protected from deletion and spread over more than one AZ."""

import pytest

from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit]


@pytest.mark.critical
@pytest.mark.check(
    id="elbv2-deletion-protection",
    title="Load balancers have deletion protection enabled",
    category="infrastructure",
    # Critical here, not the usual medium: this gate deploys with terraform and rolls back
    # with `terraform destroy`, which delete an unprotected load balancer without a prompt.
    risk="The deploy phases run terraform apply and roll back with terraform destroy; a "
    "replacement or a destroy deletes an unprotected load balancer at once. Its DNS name "
    "cannot be recreated, so every record and client pointing at it breaks: a full outage "
    "of the entry point that takes a DNS change to recover from.",
    remediation="aws elbv2 modify-load-balancer-attributes --load-balancer-arn ARN "
    "--attributes Key=deletion_protection.enabled,Value=true "
    "(terraform: enable_deletion_protection = true)",
    references=[
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#deletion-protection",
        "https://docs.aws.amazon.com/config/latest/developerguide/elb-deletion-protection-enabled.html",
    ],
)
@pytest.mark.resources("elbv2.load_balancers")
def test_elbv2_deletion_protection(resource: Resource) -> None:
    attributes = resource.need("Attributes") or {}
    value = attributes.get("deletion_protection.enabled")  # AWS answers "true" / "false"
    assert value == "true", (
        f"{resource.label}: deletion protection is {'off' if value else 'not set (off)'}"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="elbv2-multi-az",
    title="Load balancers span more than one Availability Zone",
    category="infrastructure",
    risk="A load balancer in a single AZ stops serving when that AZ fails, even if the "
    "targets behind it run elsewhere.",
    remediation="aws elbv2 set-subnets --load-balancer-arn ARN --subnets SUBNET_AZ_A "
    "SUBNET_AZ_B (terraform: subnets = [one per AZ])",
    references=["https://docs.aws.amazon.com/config/latest/developerguide/elbv2-multiple-az.html"],
)
@pytest.mark.resources("elbv2.load_balancers")
def test_elbv2_multi_az(resource: Resource) -> None:
    zones = sorted(
        {
            str(z.get("ZoneName"))
            for z in resource.get("AvailabilityZones") or []
            if z.get("ZoneName")
        }
    )
    assert len(zones) >= 2, f"{resource.label} is in {', '.join(zones) or 'no AZ'} only"
