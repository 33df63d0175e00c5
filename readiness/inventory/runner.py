"""Taking the snapshot: identity first, then every collector in parallel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import final

from readiness.aws.access import AwsAccess
from readiness.aws.errors import FetchError, classify
from readiness.aws.guard import declare
from readiness.config import Environment
from readiness.inventory.collect import CollectContext, Collector, Found
from readiness.inventory.fetch import Fetcher
from readiness.inventory.model import GLOBAL, Resource, Snapshot, Target

IDENTITY = "sts.identity"
# Every phase starts by checking the credentials (the preflight's credential checks
# judge this record).
IDENTITY_READS = declare("the credential check", ("sts:GetCallerIdentity",))


@final
@dataclass(slots=True)
class SnapshotResult:
    snapshot: Snapshot
    problems: list[str] = field(default_factory=list)


def select(collectors: Iterable[Collector], phases: Sequence[str]) -> list[Collector]:
    wanted = set(phases)
    return [c for c in collectors if c.phases & wanted]


def _in_scope(found: Found, tags: dict[str, str]) -> bool:
    if not tags or found.tags is None:
        return True  # unknown tags: judge it rather than silently drop it
    return all(found.tags.get(k) == v for k, v in tags.items())


def _run_one(collector: Collector, region: str, ctx: CollectContext) -> list[Resource] | str:
    try:
        found = list(collector.read(ctx, region))
    except FetchError as exc:
        return str(exc)
    except Exception as exc:  # a collector bug must not read as "nothing there"
        return f"collector {collector.kind} failed: {classify(exc, collector.kind)}"
    scope = ctx.env.scope.tags
    return [
        Resource(kind=collector.kind, region=region, id=f.id, data=f.data, arn=f.arn, tags=f.tags)
        for f in found
        if _in_scope(f, scope)
    ]


def take_snapshot(
    access: AwsAccess,
    env: Environment,
    target: Target,
    collectors: Sequence[Collector],
    window_hours: int = 2,
    now: dt.datetime | None = None,
) -> SnapshotResult:
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    snapshot = Snapshot(target=target, taken_at=now.isoformat(), window_hours=window_hours)
    result = SnapshotResult(snapshot)
    fetch = Fetcher(access)
    fan_out = ThreadPoolExecutor(max_workers=env.parallelism, thread_name_prefix="fan-out")
    ctx = CollectContext(fetch=fetch, env=env, now=now, window_hours=window_hours, fan_out=fan_out)
    try:
        return _collect(fetch, ctx, env, collectors, result)
    finally:
        fan_out.shutdown(wait=True, cancel_futures=True)


def _collect(
    fetch: Fetcher,
    ctx: CollectContext,
    env: Environment,
    collectors: Sequence[Collector],
    result: SnapshotResult,
) -> SnapshotResult:
    snapshot = result.snapshot

    def regions_of(c: Collector) -> list[str]:
        return [GLOBAL] if c.scope == "global" else list(env.regions)

    try:
        identity = fetch.call("sts", env.home_region, "get_caller_identity")
    except FetchError as exc:
        snapshot.put_gap(IDENTITY, GLOBAL, str(exc))
        why = f"not read: the credentials could not be verified ({exc.kind.value})"
        for c in collectors:
            for region in regions_of(c):
                snapshot.put_gap(c.kind, region, why)
        return result
    account = str(identity.get("Account", ""))
    snapshot.put(
        IDENTITY,
        GLOBAL,
        [Resource(kind=IDENTITY, region=GLOBAL, id=account or "unknown", data=identity)],
    )
    if account != env.account_id:
        result.problems.append(
            f"refusing to read: the credentials belong to account {account}, but environment "
            f"{env.name!r} is account {env.account_id}"
        )
        why = f"not read: wrong account {account} (expected {env.account_id})"
        for c in collectors:
            for region in regions_of(c):
                snapshot.put_gap(c.kind, region, why)
        return result

    jobs = [(c, region) for c in collectors for region in regions_of(c)]
    with ThreadPoolExecutor(max_workers=env.parallelism, thread_name_prefix="collect") as pool:
        futures = [(c, region, pool.submit(_run_one, c, region, ctx)) for c, region in jobs]
        for c, region, future in futures:
            outcome = future.result()
            if isinstance(outcome, str):
                snapshot.put_gap(c.kind, region, outcome)
            else:
                snapshot.put(c.kind, region, outcome)
    return result
