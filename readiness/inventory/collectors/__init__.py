"""Every collector, one module per AWS area, found by name: a module here that defines
`COLLECTORS` is part of the catalogue; `ALL` is what the runner uses."""

from __future__ import annotations

import importlib
import pkgutil

from readiness.inventory.collect import Collector


def _discover() -> tuple[Collector, ...]:
    found: list[Collector] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "COLLECTORS", ()))
    kinds = [c.kind for c in found]
    duplicated = sorted({k for k in kinds if kinds.count(k) > 1})
    if duplicated:
        raise RuntimeError(f"collector kinds defined twice: {duplicated}")
    return tuple(found)


ALL: tuple[Collector, ...] = _discover()


def by_kind() -> dict[str, Collector]:
    return {c.kind: c for c in ALL}
