"""CloudWatch alarms: metric and composite alarms, as DescribeAlarms returns them.

Each record is the raw alarm plus `AlarmKind`: "metric" or "composite".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

KINDS = (("MetricAlarms", "metric"), ("CompositeAlarms", "composite"))


@collector("cloudwatch.metric_alarms", phases=("preflight", "audit", "postdeploy", "deploy"))
def metric_alarms(ctx: CollectContext, region: str) -> Iterable[Found]:
    """CloudWatch metric and composite alarms (one paginated DescribeAlarms)."""
    params: dict[str, Any] = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
    while True:
        page = ctx.fetch.call("cloudwatch", region, "describe_alarms", **params)
        for key, kind in KINDS:
            for alarm in page.get(key, []):
                yield Found(
                    id=str(alarm["AlarmName"]),
                    arn=alarm.get("AlarmArn"),
                    data={**alarm, "AlarmKind": kind},
                )
        token = page.get("NextToken")
        if not token:
            return
        params = {**params, "NextToken": token}


COLLECTORS = (metric_alarms,)
