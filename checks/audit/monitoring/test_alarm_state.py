"""No alarm is firing at the moment of the go/no-go decision."""

from collections.abc import Callable

import pytest

from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit, pytest.mark.critical]


@pytest.mark.check(
    id="alarm-not-in-alarm",
    title="No CloudWatch alarm is in the ALARM state",
    category="monitoring",
    risk="Deploying on top of a firing alarm hides whether the release breaks anything, "
    "and adds a change to an incident already in progress.",
    remediation="Find out why the alarm fires (aws cloudwatch describe-alarm-history "
    "--alarm-name NAME) and fix it, or waive it with a reason, before deploying.",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html"
    ],
)
@pytest.mark.resources("cloudwatch.metric_alarms")
def test_alarm_not_in_alarm(
    resource: Resource, record_property: Callable[[str, object], None]
) -> None:
    state = resource.get("StateValue")
    assert state != "ALARM", (
        f"{resource.label} is in ALARM since {resource.get('StateUpdatedTimestamp', '?')}: "
        f"{resource.get('StateReason', 'no reason given')}"
    )
    if state == "INSUFFICIENT_DATA":
        # Not firing, but not judging either: the metric has no data (a quiet DLQ, say).
        record_property(
            "note", f"{resource.label} is INSUFFICIENT_DATA: not in ALARM, but it has no data"
        )
