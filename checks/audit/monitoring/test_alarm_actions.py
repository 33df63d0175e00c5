"""Every alarm tells someone: an enabled alarm action to an SNS topic that exists and has
a confirmed subscription.

Alarms whose every action is an Auto Scaling policy are scaling triggers, not alerts,
and are not judged. A metric alarm without actions passes when a composite alarm that
names it in its rule notifies (the usual way to suppress noisy children).
"""

import re

import pytest

from readiness.config import Environment
from readiness.inventory.collectors.cloudwatch_alarms import alarms_in
from readiness.inventory.collectors.sns import confirmed, topic_by_arn
from readiness.inventory.model import Resource, Snapshot

pytestmark = [pytest.mark.audit, pytest.mark.warning]
_RULE_NAME = re.compile(r"ALARM\(\s*\"?([^\")]+?)\"?\s*\)")
_SCALING = ("arn:aws:autoscaling:", "arn:aws:application-autoscaling:")


def alerting(resource: Resource, env: Environment) -> bool:
    actions = [str(a) for a in resource.get("AlarmActions") or []]
    return not actions or not all(a.startswith(_SCALING) for a in actions)


def sns_actions(alarm: Resource) -> list[str]:
    if alarm.get("ActionsEnabled", True) is False:
        return []
    return [str(a) for a in alarm.get("AlarmActions") or [] if str(a).startswith("arn:aws:sns:")]


def parents_of(alarm: Resource, inventory: Snapshot) -> list[Resource]:
    return [
        other
        for other in alarms_in(inventory, alarm.region)
        if other.get("AlarmKind") == "composite"
        and alarm.id in _RULE_NAME.findall(str(other.get("AlarmRule") or ""))
    ]


def notifying_topics(alarm: Resource, inventory: Snapshot) -> tuple[list[str], list[str]]:
    """(topics with a confirmed subscription, problems with the others)."""
    good: list[str] = []
    problems: list[str] = []
    for arn in sns_actions(alarm):
        topic = topic_by_arn(inventory, arn)
        if topic is None:
            problems.append(f"topic {arn} does not exist")
        elif not confirmed(topic):
            problems.append(f"topic {arn} has no confirmed subscription")
        else:
            good.append(arn)
    return good, problems


@pytest.mark.check(
    id="alarm-actions-notify",
    title="Every CloudWatch alarm notifies an SNS topic with a confirmed subscription",
    category="monitoring",
    risk="An alarm without an action, or one that notifies a deleted topic or a topic "
    "nobody confirmed, changes state silently: the incident is found by the users.",
    remediation="aws cloudwatch put-metric-alarm ... --alarm-actions TOPIC_ARN (composite: "
    "put-composite-alarm ... --alarm-actions TOPIC_ARN); aws sns subscribe --topic-arn "
    "TOPIC_ARN --protocol email|sqs|lambda|https --notification-endpoint ... and confirm it.",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/cloudwatch-alarm-action-check.html",
    ],
)
@pytest.mark.resources("cloudwatch.metric_alarms", where=alerting)
def test_alarm_actions_notify(resource: Resource, inventory: Snapshot) -> None:
    good, problems = notifying_topics(resource, inventory)
    if not good and not sns_actions(resource) and resource.get("AlarmKind") == "metric":
        good = [p.id for p in parents_of(resource, inventory) if notifying_topics(p, inventory)[0]]
    if resource.get("ActionsEnabled", True) is False:
        problems.insert(0, "its actions are disabled")
    elif not sns_actions(resource):
        problems.insert(0, "it has no alarm action to an SNS topic")
    assert good, f"{resource.label} notifies nobody: {'; '.join(problems)}"
