"""Cost-allocation tags: on every tagged resource of the account, and active in Billing.

Judged over the Resource Groups Tagging API (`tagging.resources`): ECS, RDS, DynamoDB,
SQS, SNS, Lambda, CloudWatch alarms, Logs, S3, KMS, ELB, EC2, Secrets Manager, Backup
and the rest of what it lists. It lists only resources that carry (or once carried) a
tag: a resource never tagged at all is not seen here.
"""

import pytest

from readiness.config import Environment
from readiness.inventory.collectors.cost import ALLOCATION_TAGS
from readiness.inventory.collectors.tagging import KIND
from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit, pytest.mark.warning]


def tags_configured(resource: Resource, env: Environment) -> bool:
    return bool(env.scope.cost_allocation_tags)


@pytest.mark.check(
    id="cost-allocation-tags",
    title="Resources carry the configured cost-allocation tags",
    category="cost",
    risk="Untagged cost cannot be attributed to a team or environment: the monthly review "
    "cannot say what a release added.",
    remediation="aws resourcegroupstaggingapi tag-resources --resource-arn-list ARN --tags "
    "Environment=production,Owner=TEAM (terraform: default_tags in the aws provider); "
    "activate the keys as cost-allocation tags in the Billing console.",
    references=[
        "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/cost-alloc-tags.html"
    ],
)
@pytest.mark.resources(KIND, where=tags_configured)
def test_cost_allocation_tags(resource: Resource, environment: Environment) -> None:
    tags = resource.tags or {}
    missing = [k for k in environment.scope.cost_allocation_tags if not tags.get(k)]
    assert not missing, f"{resource.label} lacks cost-allocation tag(s) {', '.join(missing)}"


@pytest.mark.check(
    id="cost-allocation-tags-active",
    title="The configured cost-allocation tag keys are active in Billing",
    category="cost",
    risk="A tag key that is not activated as a cost-allocation tag never reaches Cost "
    "Explorer or the cost reports, however well the resources are tagged: the cost of a "
    "release cannot be attributed.",
    remediation="aws ce update-cost-allocation-tags-status --cost-allocation-tags-status "
    "TagKey=Owner,Status=Active (terraform: aws_ce_cost_allocation_tag with status = "
    '"Active"); a key Billing has not seen yet appears within a day of tagging a resource.',
    references=[
        "https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/activating-tags.html"
    ],
)
@pytest.mark.resources(ALLOCATION_TAGS, where=tags_configured)
def test_cost_allocation_tags_active(resource: Resource) -> None:
    status = resource.get("Status")
    assert status is not None, (
        f"cost-allocation tag {resource.id} is unknown to Billing (not listed by "
        "ListCostAllocationTags: no resource has carried it yet), so it is not active"
    )
    assert status == "Active", f"cost-allocation tag {resource.id} is {status} in Billing"
