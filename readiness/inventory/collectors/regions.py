"""Does each configured region answer?"""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector


@collector("region.zones", phases=("preflight", "audit"), reads=("ec2:DescribeAvailabilityZones",))
def region_zones(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The region answers: its availability zones."""
    zones = ctx.fetch.call("ec2", region, "describe_availability_zones")["AvailabilityZones"]
    yield Found(
        id="zones", data={"Zones": [z["ZoneName"] for z in zones if z.get("State") == "available"]}
    )


COLLECTORS = (region_zones,)
