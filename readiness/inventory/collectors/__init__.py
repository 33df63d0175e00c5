"""Every collector, one module per AWS area; `ALL` is the catalogue the runner uses."""

from __future__ import annotations

from readiness.inventory.collect import Collector
from readiness.inventory.collectors import core

ALL: tuple[Collector, ...] = (*core.COLLECTORS,)


def by_kind() -> dict[str, Collector]:
    return {c.kind: c for c in ALL}
