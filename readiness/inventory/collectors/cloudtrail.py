"""CloudTrail trails, per region, shadow trails included, with their logging status
and event selectors.

DescribeTrails lists, in each region, the trails homed there and a "shadow" of every
multi-region (or organization) trail homed elsewhere. Each region's records are what
that region lists (`Shadow` true for the copies). GetTrailStatus and GetEventSelectors
are read once per trail: in its home region, or, for a trail homed outside the
configured regions, in the first configured region (by ARN, as AWS requires for a
shadow trail).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector

STATUS = "Status"
SELECTORS = "EventSelectors"


@collector(
    "cloudtrail.trails",
    phases=("audit",),
    reads=(
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetTrailStatus",
    ),
)
def trails(ctx: CollectContext, region: str) -> Iterable[Found]:
    """CloudTrail trails seen from this region (shadow trails marked), with their status."""
    listed = ctx.fetch.call("cloudtrail", region, "describe_trails", includeShadowTrails=True).get(
        "trailList", []
    )
    regions = list(ctx.env.regions)

    def describe(trail: dict[str, Any]) -> Found:
        home = str(trail.get("HomeRegion") or region)
        arn = str(trail.get("TrailARN") or trail.get("Name"))
        found = Found(
            id=str(trail.get("Name")),
            arn=trail.get("TrailARN"),
            data={**trail, "Shadow": home != region},
        )
        reads_here = home == region or (home not in regions and region == regions[0])
        if reads_here:
            found.enrich(
                STATUS, lambda: ctx.fetch.call("cloudtrail", region, "get_trail_status", Name=arn)
            )
            found.enrich(SELECTORS, lambda: _selectors(ctx, region, arn))
        return found

    return ctx.each(listed, describe)


def _selectors(ctx: CollectContext, region: str, arn: str) -> dict[str, Any]:
    """The trail's basic and advanced selectors (AWS returns one kind, the other absent)."""
    answer = ctx.fetch.call("cloudtrail", region, "get_event_selectors", TrailName=arn)
    return {
        "EventSelectors": list(answer.get("EventSelectors") or []),
        "AdvancedEventSelectors": list(answer.get("AdvancedEventSelectors") or []),
    }


COLLECTORS = (trails,)
