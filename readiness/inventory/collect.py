"""What a collector is, and the context it reads through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, final

from readiness.aws.errors import FetchError
from readiness.aws.guard import declare
from readiness.config import Environment
from readiness.inventory.fetch import Fetcher
from readiness.inventory.model import UNAVAILABLE

Scope = Literal["regional", "global"]
T = TypeVar("T")
R = TypeVar("R")


@final
@dataclass(slots=True)
class Found:
    """One resource a collector found."""

    id: str
    data: dict[str, Any]
    arn: str | None = None
    tags: dict[str, str] | None = None

    def enrich(self, field_name: str, read: Callable[[], Any]) -> None:
        """Add a separately read field; if the read fails, record why instead of guessing."""
        try:
            self.data[field_name] = read()
        except FetchError as exc:
            self.data.setdefault(UNAVAILABLE, {})[field_name] = str(exc)


@final
@dataclass(frozen=True, slots=True)
class CollectContext:
    fetch: Fetcher
    env: Environment
    now: dt.datetime
    window_hours: int
    fan_out: ThreadPoolExecutor | None = None

    def each(self, items: Sequence[T], read: Callable[[T], R]) -> list[R]:
        """Run a per-resource read over many resources in parallel, keeping the order.

        The reads must not call `each` themselves (the pool is not re-entrant).
        """
        if self.fan_out is None or len(items) < 2:
            return [read(item) for item in items]
        return list(self.fan_out.map(read, items))

    @property
    def window_start(self) -> dt.datetime:
        return self.now - dt.timedelta(hours=self.window_hours)


CollectFn = Callable[[CollectContext, str], Iterable[Found]]


@final
@dataclass(frozen=True, slots=True)
class Collector:
    """Reads one kind of resource in one region (or once, for global kinds).

    `reads` names every operation it sends (`service:Operation`, the API's names):
    its phases' allow-list, and the least-privilege policy, are made of them.
    """

    kind: str
    read: CollectFn
    phases: frozenset[str]
    scope: Scope = "regional"
    description: str = ""
    requires: tuple[str, ...] = field(default=())
    reads: frozenset[str] = frozenset()


def collector(
    kind: str,
    *,
    phases: Iterable[str],
    reads: Iterable[str],
    scope: Scope = "regional",
    description: str = "",
) -> Callable[[CollectFn], Collector]:
    """Decorator: turn a read function into a Collector value (kept in a module tuple).

    A declared operation that returns secret values (or reads log events) is refused
    here, when the module is imported (DeclarationError).
    """
    declared = declare(f"collector {kind}", reads)

    def wrap(read: CollectFn) -> Collector:
        return Collector(
            kind=kind,
            read=read,
            phases=frozenset(phases),
            scope=scope,
            description=description or _first_line(read.__doc__),
            reads=declared,
        )

    return wrap


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def tag_dict(tags: Any, key: str = "Key", value: str = "Value") -> dict[str, str]:
    """AWS tags come as [{"Key": k, "Value": v}] (or key/value in lower case)."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in tags or []:
        if isinstance(tag, dict):
            k = tag.get(key, tag.get(key.lower()))
            v = tag.get(value, tag.get(value.lower(), ""))
            if k is not None:
                out[str(k)] = str(v)
    return out
