"""CloudWatch metrics over the post-deploy window, and Lambda activity read through them.

`window_series(...)` reads one metric of one resource over the run's window
(GetMetricStatistics, 5-minute periods for the 2 h window, hourly for 24 h) and returns
its datapoints oldest first: `{"Timestamp", "Average"?, "Sum"?, "SampleCount"?}`.

Kind `lambda.window_metrics`: one record per Lambda function (id = function name) with
`Invocations` and `Errors` (each the datapoints of that metric's Sum over the window),
`PeriodSeconds` and `WindowHours`. A metric that cannot be read is recorded as unreadable,
so `resource.need("Invocations")` makes only that check not-evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

KIND = "lambda.window_metrics"
SHORT_WINDOW_HOURS = 2
STATISTICS = ("Average", "Sum", "SampleCount")


def period_for(window_hours: int) -> int:
    """5-minute points for the first hours, hourly points for the day's review."""
    return 300 if window_hours <= SHORT_WINDOW_HOURS else 3600


def window_series(
    ctx: CollectContext,
    region: str,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    statistics: Sequence[str] = STATISTICS,
) -> list[dict[str, Any]]:
    """Datapoints of one metric over the window, oldest first (FetchError if unreadable)."""
    answer = ctx.fetch.call(
        "cloudwatch",
        region,
        "get_metric_statistics",
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
        StartTime=ctx.window_start,
        EndTime=ctx.now,
        Period=period_for(ctx.window_hours),
        Statistics=list(statistics),
    )
    points = [dict(p) for p in answer.get("Datapoints") or [] if "Timestamp" in p]
    return sorted(points, key=lambda p: str(p["Timestamp"]))


def total(points: Iterable[Mapping[str, Any]], statistic: str = "Sum") -> float:
    return float(sum(float(p.get(statistic, 0.0)) for p in points))


def weighted_average(points: Iterable[Mapping[str, Any]]) -> float | None:
    """The mean over the window: each period's average weighted by its sample count."""
    weight = 0.0
    acc = 0.0
    for p in points:
        if "Average" not in p:
            continue
        n = float(p.get("SampleCount") or 1.0)
        acc += float(p["Average"]) * n
        weight += n
    return acc / weight if weight else None


@collector(
    KIND, phases=("postdeploy",), reads=("cloudwatch:GetMetricStatistics", "lambda:ListFunctions")
)
def lambda_window_metrics(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Lambda Invocations and Errors over the post-deploy window, per function."""
    listed = ctx.fetch.pages("lambda", region, "list_functions", "Functions")

    def read(summary: dict[str, Any]) -> Found:
        name = str(summary["FunctionName"])
        found = Found(
            id=name,
            arn=summary.get("FunctionArn"),
            data={
                "FunctionName": name,
                "PeriodSeconds": period_for(ctx.window_hours),
                "WindowHours": ctx.window_hours,
            },
        )

        def series(metric: str) -> Callable[[], list[dict[str, Any]]]:
            dimensions = {"FunctionName": name}
            return lambda: window_series(ctx, region, "AWS/Lambda", metric, dimensions, ("Sum",))

        for metric in ("Invocations", "Errors"):
            found.enrich(metric, series(metric))
        return found

    return ctx.each(listed, read)


COLLECTORS = (lambda_window_metrics,)
