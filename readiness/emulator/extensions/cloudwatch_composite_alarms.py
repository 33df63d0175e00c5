"""CloudWatch composite alarms: moto keeps them (an alarm with an AlarmRule, listed under
DescribeAlarms' `CompositeAlarms`) but has no PutCompositeAlarm action, so none can be
made.

This patch adds the action to moto's CloudWatch responses: it reads PutCompositeAlarm's
parameters (AlarmName, AlarmRule, AlarmDescription, ActionsEnabled, AlarmActions,
OKActions, InsufficientDataActions, Tags) and stores the alarm the way moto stores its
own composite alarms, so DescribeAlarms(AlarmTypes=["CompositeAlarm"]) and
SetAlarmState work on it. A missing AlarmName or AlarmRule is ValidationError.

moto also answers DescribeAlarms(StateValue=...) with a one-pass iterator that its
response reads twice (metric alarms, then composite ones), so a composite alarm in the
asked state was never listed: the backend's filter now returns a list.
"""

from __future__ import annotations

from typing import Any

from readiness.emulator.registry import Registry

_MARK = "_readiness_composite_alarms"


def put_composite_alarm(self: Any) -> Any:
    from moto.cloudwatch.exceptions import ValidationError
    from moto.core.responses import EmptyResult

    name = self._get_param("AlarmName")
    rule = self._get_param("AlarmRule")
    if not name or not rule:
        raise ValidationError("AlarmName and AlarmRule are required")
    enabled = self._get_bool_param("ActionsEnabled")
    self.cloudwatch_backend.put_metric_alarm(
        name=name,
        namespace=None,
        metric_name=None,
        comparison_operator=None,
        evaluation_periods=None,
        period=None,
        threshold=None,
        statistic=None,
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=True if enabled is None else enabled,
        rule=rule,
        tags=self._get_param("Tags", []),
    )
    return EmptyResult()


def patch_state_filter(cls: Any) -> None:
    original = cls.get_alarms_by_state_value
    if getattr(original, _MARK, False):
        return

    def get_alarms_by_state_value(self: Any, target_state: str) -> list[Any]:
        return list(original(self, target_state))

    setattr(get_alarms_by_state_value, _MARK, True)
    cls.get_alarms_by_state_value = get_alarms_by_state_value


def patch_responses(cls: Any) -> None:
    if getattr(cls, _MARK, False) or hasattr(cls, "put_composite_alarm"):
        return
    cls.put_composite_alarm = put_composite_alarm
    setattr(cls, _MARK, True)


def install(registry: Registry) -> None:
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    patch_responses(CloudWatchResponse)
    patch_state_filter(CloudWatchBackend)
