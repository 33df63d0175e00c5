"""Alarms: none in ALARM after the deploy, metric and composite alike."""

import pytest

from readiness.inventory.model import NotEvaluated, Resource

pytestmark = [pytest.mark.postdeploy]


@pytest.mark.critical
@pytest.mark.check(
    id="alarm-not-firing",
    title="No CloudWatch alarm (metric or composite) is in ALARM",
    category="postdeploy",
    risk="An alarm in ALARM after a deploy is the seed's critical issue: immediate rollback.",
    remediation="Read the alarm's state reason and history (aws cloudwatch "
    "describe-alarm-history --alarm-name NAME); roll back if the deploy caused it.",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"
    ],
)
@pytest.mark.resources("cloudwatch.metric_alarms")
def test_alarm_not_firing(resource: Resource) -> None:
    state = resource.get("StateValue")
    if state is None:
        raise NotEvaluated(f"{resource.label}: the alarm's state was not returned")
    kind = resource.get("AlarmKind", "metric")
    assert state != "ALARM", (
        f"{resource.label} ({kind} alarm) is in ALARM since "
        f"{resource.get('StateUpdatedTimestamp', '?')}: {resource.get('StateReason', '')}"
    )
