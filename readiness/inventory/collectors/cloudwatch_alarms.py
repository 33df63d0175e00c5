"""CloudWatch alarms: the one collector of alarms, for every check that reads them.

Kind `cloudwatch.metric_alarms`: one record per alarm, metric and composite alike, read
with DescribeAlarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"]) through every page.
A record is DescribeAlarms' own entry (from `MetricAlarms` or `CompositeAlarms`,
unchanged) plus `AlarmKind`: "metric" or "composite". Its id is the alarm name.

`alarms_in(snapshot, region)` gives one region's alarms (not-evaluated when that region
could not be read); `alarms_on(...)` picks the alarms that watch a given metric of a
given resource, whether the alarm names the metric itself or through a metric-math query.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

KIND = "cloudwatch.metric_alarms"
ALARM_TYPES = ["MetricAlarm", "CompositeAlarm"]
_KINDS = (("MetricAlarms", "metric"), ("CompositeAlarms", "composite"))

Metric = tuple[str, str, dict[str, str]]


def describe_all_alarms(ctx: CollectContext, region: str) -> list[dict[str, Any]]:
    """Metric and composite alarms arrive in the same pages of one request."""
    alarms: list[dict[str, Any]] = []
    for page in ctx.fetch.all_pages(
        "cloudwatch", region, "describe_alarms", AlarmTypes=ALARM_TYPES
    ):
        for key, kind in _KINDS:
            alarms.extend({**alarm, "AlarmKind": kind} for alarm in page.get(key) or [])
    return alarms


@collector(KIND, phases=("preflight", "audit", "postdeploy"), reads=("cloudwatch:DescribeAlarms",))
def metric_alarms(ctx: CollectContext, region: str) -> Iterable[Found]:
    """CloudWatch metric and composite alarms, as DescribeAlarms returns them."""
    for alarm in describe_all_alarms(ctx, region):
        yield Found(id=str(alarm["AlarmName"]), arn=alarm.get("AlarmArn"), data=alarm)


# -- reading them -------------------------------------------------------------------


def alarms_in(snapshot: Snapshot, region: str) -> list[Resource]:
    """The alarms of one region; NotEvaluated if that region's alarms could not be read."""
    for gap in snapshot.gaps(KIND):
        if gap.region == region:
            raise NotEvaluated(gap.message())
    return [a for a in snapshot.resources(KIND) if a.region == region]


def _dimensions(raw: Any) -> dict[str, str]:
    return {str(d.get("Name")): str(d.get("Value")) for d in raw or [] if isinstance(d, dict)}


def metrics_of(alarm: Resource) -> list[Metric]:
    """(namespace, metric, dimensions) of every metric an alarm evaluates."""
    out: list[Metric] = []
    if alarm.get("MetricName"):
        out.append(
            (
                str(alarm.get("Namespace", "")),
                str(alarm.get("MetricName")),
                _dimensions(alarm.get("Dimensions")),
            )
        )
    for query in alarm.get("Metrics") or []:
        metric = ((query or {}).get("MetricStat") or {}).get("Metric") or {}
        if metric.get("MetricName"):
            out.append(
                (
                    str(metric.get("Namespace", "")),
                    str(metric["MetricName"]),
                    _dimensions(metric.get("Dimensions")),
                )
            )
    return out


def notifies(alarm: Resource) -> bool:
    """Actions enabled and at least one action when the alarm fires."""
    return alarm.get("ActionsEnabled", True) is not False and bool(alarm.get("AlarmActions"))


def alarms_on(
    alarms: Iterable[Resource],
    namespace: str,
    metric_names: Collection[str],
    dimensions: Mapping[str, str],
) -> list[Resource]:
    """Alarms on one of `metric_names` in `namespace` whose dimensions include `dimensions`."""
    wanted = dict(dimensions)
    return [
        alarm
        for alarm in alarms
        if any(
            ns == namespace and name in metric_names and wanted.items() <= dims.items()
            for ns, name, dims in metrics_of(alarm)
        )
    ]


COLLECTORS = (metric_alarms,)
