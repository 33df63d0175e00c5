"""The inventory snapshot: every resource this run judges, read once, JSON all the way.

A kind ("rds.db_instances") holds, per region, either its records or a gap: the reason
it could not be read. Checks never see an empty list where the truth is "unknown".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

SNAPSHOT_SCHEMA = 1
GLOBAL = "global"
UNAVAILABLE = "_unavailable"


class NotEvaluated(Exception):
    """The data a check needs could not be read; the check is not-evaluated."""


class SnapshotError(Exception):
    """A snapshot file that cannot be used."""


@final
@dataclass(frozen=True, slots=True)
class Target:
    environment: str
    account: str
    regions: tuple[str, ...]
    endpoint: str | None = None
    emulated: bool = False
    seed: str | None = None
    app_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "account": self.account,
            "regions": list(self.regions),
            "endpoint": self.endpoint,
            "emulated": self.emulated,
            "seed": self.seed,
            "app_url": self.app_url,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Target:
        return cls(
            environment=str(data["environment"]),
            account=str(data["account"]),
            regions=tuple(str(r) for r in data["regions"]),
            endpoint=data.get("endpoint"),
            emulated=bool(data.get("emulated", False)),
            seed=data.get("seed"),
            app_url=data.get("app_url"),
        )


@final
@dataclass(frozen=True, slots=True)
class Resource:
    """One resource as AWS described it (plus what collectors added to it)."""

    kind: str
    region: str
    id: str
    data: Mapping[str, Any]
    arn: str | None = None
    tags: Mapping[str, str] | None = None

    @property
    def label(self) -> str:
        """How reports, waivers and test ids name it: region/id, or id when global."""
        return self.id if self.region == GLOBAL else f"{self.region}/{self.id}"

    def need(self, key: str) -> Any:
        """A field that a collector fetched separately; NotEvaluated if that read failed."""
        missing = self.data.get(UNAVAILABLE, {})
        if key in missing:
            raise NotEvaluated(f"{self.label}: {key} could not be read: {missing[key]}")
        return self.data.get(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "arn": self.arn, "tags": self.tags, "data": dict(self.data)}


@final
@dataclass(frozen=True, slots=True)
class Gap:
    """A kind that could not be read in one region."""

    kind: str
    region: str
    reason: str

    @property
    def label(self) -> str:
        return self.region

    def message(self) -> str:
        return f"{self.kind} in {self.region}: {self.reason}"


@final
@dataclass(slots=True)
class Snapshot:
    target: Target
    taken_at: str
    window_hours: int | None = None
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Short: pytest shows a failed check's arguments, and the whole inventory in every
        # failure made a run quadratic in the number of resources.
        return f"Snapshot({self.target.environment!r}, {len(self.kinds)} kinds, {self.taken_at!r})"

    # -- building --------------------------------------------------------------------

    def put(self, kind: str, region: str, resources: list[Resource]) -> None:
        self.kinds.setdefault(kind, {})[region] = {"records": [r.to_json() for r in resources]}

    def put_gap(self, kind: str, region: str, reason: str) -> None:
        self.kinds.setdefault(kind, {})[region] = {"gap": reason}

    # -- reading ---------------------------------------------------------------------

    def collected(self, kind: str) -> bool:
        return kind in self.kinds

    def _regions(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if kind not in self.kinds:
            raise NotEvaluated(f"{kind} was not collected in this run")
        yield from sorted(self.kinds[kind].items())

    def resources(self, kind: str) -> list[Resource]:
        """The resources read (regions with a gap contribute none: see gaps())."""
        out: list[Resource] = []
        for region, entry in self._regions(kind):
            for rec in entry.get("records", []):
                out.append(
                    Resource(
                        kind=kind,
                        region=region,
                        id=str(rec["id"]),
                        data=rec.get("data") or {},
                        arn=rec.get("arn"),
                        tags=rec.get("tags"),
                    )
                )
        return out

    def gaps(self, kind: str) -> list[Gap]:
        return [
            Gap(kind, region, str(entry["gap"]))
            for region, entry in self._regions(kind)
            if "gap" in entry
        ]

    def require(self, kind: str) -> list[Resource]:
        """Every resource of a kind, or NotEvaluated if any region could not be read."""
        gaps = self.gaps(kind)
        if gaps:
            raise NotEvaluated("; ".join(g.message() for g in gaps))
        return self.resources(kind)

    def first(self, kind: str, region: str = GLOBAL) -> Resource | None:
        for resource in self.require(kind):
            if resource.region == region:
                return resource
        return None

    # -- files -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SNAPSHOT_SCHEMA,
            "taken_at": self.taken_at,
            "window_hours": self.window_hours,
            "target": self.target.to_json(),
            "kinds": self.kinds,
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> Snapshot:
        if not isinstance(data, dict) or data.get("schema_version") != SNAPSHOT_SCHEMA:
            raise SnapshotError(f"{source}: not a readiness inventory snapshot (schema 1)")
        try:
            target = Target.from_json(data["target"])
            kinds = data["kinds"]
            if not isinstance(kinds, dict):
                raise TypeError("kinds must be a table")
            for kind, regions in kinds.items():
                for region, entry in regions.items():
                    if not ("records" in entry or "gap" in entry):
                        raise ValueError(f"{kind}/{region} has neither records nor gap")
                    for rec in entry.get("records", []):
                        if "id" not in rec:
                            raise ValueError(f"{kind}/{region}: a record without an id")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"{source}: malformed snapshot: {exc}") from None
        return cls(
            target=target,
            taken_at=str(data.get("taken_at", "")),
            window_hours=data.get("window_hours"),
            kinds=kinds,
        )

    @classmethod
    def load(cls, path: Path) -> Snapshot:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SnapshotError(f"{path}: snapshot file not found") from None
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"{path}: cannot be read as JSON: {exc}") from None
        return cls.from_json(data, str(path))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
