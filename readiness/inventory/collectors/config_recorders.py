"""AWS Config: one record per region (`config`) with its configuration recorders, each
joined with its status (recording or not, last status)."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector

RECORD = "config"


@collector(
    "config.recorders",
    phases=("audit",),
    reads=("config:DescribeConfigurationRecorderStatus", "config:DescribeConfigurationRecorders"),
)
def recorders(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The region's Config recorders with their status under `Recorders`."""
    described = ctx.fetch.call("config", region, "describe_configuration_recorders").get(
        "ConfigurationRecorders", []
    )
    statuses = ctx.fetch.call("config", region, "describe_configuration_recorder_status").get(
        "ConfigurationRecordersStatus", []
    )
    by_name = {s.get("name"): s for s in statuses}
    joined = [{**r, "Status": by_name.get(r.get("name"))} for r in described]
    yield Found(id=RECORD, data={"Recorders": joined})


COLLECTORS = (recorders,)
