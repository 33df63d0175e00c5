"""CloudWatch Synthetics canaries, as DescribeCanaries reports them.

Kind `synthetics.canaries`: one record per canary (id: its name) with the fields a
check reads: `Name`, `Status` (State READY / STARTING / RUNNING / STOPPING / STOPPED /
ERROR ..., StateReason), `Schedule`, `RuntimeVersion`, `Timeline`, `Tags`. The code
location and the run configuration (which can hold environment variables) are not kept.
DescribeCanaries has no boto3 paginator: NextToken is followed by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

KIND = "synthetics.canaries"
KEEP = ("Id", "Name", "Status", "Schedule", "RuntimeVersion", "Timeline", "Tags")
MAX_PAGES = 100


def describe_canaries(ctx: CollectContext, region: str) -> list[dict[str, Any]]:
    canaries: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"NextToken": token} if token else {}
        page = ctx.fetch.call("synthetics", region, "describe_canaries", **params)
        canaries.extend(page.get("Canaries") or [])
        token = page.get("NextToken")
        if not token:
            return canaries
    raise RuntimeError(f"DescribeCanaries in {region} did not end after {MAX_PAGES} pages")


@collector(KIND, phases=("preflight", "audit"), reads=("synthetics:DescribeCanaries",))
def canaries(ctx: CollectContext, region: str) -> Iterable[Found]:
    """CloudWatch Synthetics canaries and their state."""
    for canary in describe_canaries(ctx, region):
        data = {k: canary[k] for k in KEEP if k in canary}
        yield Found(id=str(canary["Name"]), data=data, tags=tag_dict(canary.get("Tags")))


def state(canary: Any) -> str:
    status = canary.get("Status") or {}
    return str(status.get("State") or "UNKNOWN")


COLLECTORS = (canaries,)
