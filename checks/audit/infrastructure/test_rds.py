"""RDS availability and insight: Multi-AZ, deletion protection, Performance Insights.

A member of a DB cluster (Aurora, Multi-AZ DB cluster) is judged on its cluster's
Multi-AZ and deletion protection, which is where AWS keeps and applies them.
"""

import pytest

from readiness.inventory.collectors.rds import setting
from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit]
RDS_DOCS = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide"


@pytest.mark.critical
@pytest.mark.check(
    id="rds-multi-az",
    title="RDS instances run Multi-AZ",
    category="infrastructure",
    risk="A single-AZ database is down for the whole of an AZ outage or an instance failure, "
    "and maintenance means downtime instead of a failover.",
    remediation="aws rds modify-db-instance --db-instance-identifier NAME --multi-az "
    "--apply-immediately  (terraform: multi_az = true; Aurora: add a replica in another AZ)",
    references=[
        f"{RDS_DOCS}/Concepts.MultiAZ.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/rds-multi-az-support.html",
    ],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_multi_az(resource: Resource) -> None:
    multi_az, holder = setting(resource, "MultiAZ")
    assert multi_az is True, f"{holder} is not Multi-AZ (MultiAZ={multi_az})"


@pytest.mark.critical
@pytest.mark.check(
    id="rds-deletion-protection",
    title="RDS instances have deletion protection",
    category="infrastructure",
    risk="One mistaken delete (console, CLI, a terraform plan that replaces it) destroys the "
    "production database.",
    remediation="aws rds modify-db-instance --db-instance-identifier NAME --deletion-protection "
    "--apply-immediately  (terraform: deletion_protection = true; for a cluster member: "
    "aws rds modify-db-cluster --db-cluster-identifier CLUSTER --deletion-protection)",
    references=[f"{RDS_DOCS}/USER_DeleteInstance.html#USER_DeleteInstance.DeletionProtection"],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_deletion_protection(resource: Resource) -> None:
    protected, holder = setting(resource, "DeletionProtection")
    assert protected is True, f"{holder} has no deletion protection"


@pytest.mark.warning
@pytest.mark.check(
    id="rds-performance-insights",
    title="RDS instances have Performance Insights enabled",
    category="infrastructure",
    risk="Without Performance Insights a slow or overloaded database cannot be diagnosed "
    "after the fact: the load by query and wait event is simply not recorded.",
    remediation="aws rds modify-db-instance --db-instance-identifier NAME "
    "--enable-performance-insights --performance-insights-retention-period 7 "
    "--apply-immediately  (terraform: performance_insights_enabled = true)",
    references=[f"{RDS_DOCS}/USER_PerfInsights.Enabling.html"],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_performance_insights(resource: Resource) -> None:
    # AWS always reports the flag; an instance without it has it off.
    enabled = resource.get("PerformanceInsightsEnabled", False)
    assert enabled is True, f"{resource.label} has Performance Insights off"
