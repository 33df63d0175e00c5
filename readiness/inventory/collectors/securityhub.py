"""Security Hub: one record per region (`securityhub`), `Hub` None when the account is not
subscribed there (DescribeHub answers InvalidAccessException, or ResourceNotFound)."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.collectors.iam import absent_on

RECORD = "securityhub"
NOT_SUBSCRIBED = ("InvalidAccessException", "ResourceNotFoundException")


@collector("securityhub.hub", phases=("audit",), reads=("securityhub:DescribeHub",))
def hub(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Whether Security Hub is enabled in the region (DescribeHub)."""
    answer = absent_on(
        lambda: ctx.fetch.call("securityhub", region, "describe_hub"), *NOT_SUBSCRIBED
    )
    yield Found(id=RECORD, arn=(answer or {}).get("HubArn"), data={"Hub": answer})


COLLECTORS = (hub,)
