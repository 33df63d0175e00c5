"""What a run judged, against what its phase consists of.

The phase's catalogue is `checks/catalogue.json` in the rootdir (generated with
docs/checks.md by `python -m readiness.catalogue`, from the checks' own metadata). A run
is complete only when every check the catalogue lists for its phase produced a result,
at its catalogued place and with its catalogued severity. That is compared with what
ran, not with how pytest was configured, so no option, ini override, plugin or skipped
module can narrow a phase without the run saying so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from reports.outcomes import PHASES, Result

CATALOGUE = Path("checks") / "catalogue.json"
# Set by `readiness gate PHASE` for its child, as "RUN_ID:PHASE": the phase it must judge.
GATE_PHASE = "READINESS_GATE_PHASE"
REGENERATE = "python -m readiness.catalogue"
_SCHEMA = 1
_SHOWN = 10


class CatalogueError(Exception):
    """The catalogue cannot be read: nothing can be judged complete."""


@final
@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    phase: str
    severity: str
    node: str


@final
@dataclass(frozen=True, slots=True)
class Catalogue:
    path: Path
    digest: str
    entries: tuple[Entry, ...]

    def of_phase(self, phase: str) -> list[Entry]:
        """The checks of a phase label: "audit", "preflight+audit", or "all" (no -m)."""
        return [e for e in self.entries if in_phase(e.phase, phase)]


def in_phase(entry_phase: str, label: str) -> bool:
    return label == "all" or entry_phase in label.split("+")


def load_catalogue(path: Path) -> Catalogue:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(
            f"{path}: the check catalogue cannot be read ({exc.strerror or exc}); "
            f"generate it with `{REGENERATE}`"
        ) from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CatalogueError(f"{path}: not valid JSON ({exc}); regenerate it") from None
    if not isinstance(data, dict) or data.get("schema_version") != _SCHEMA:
        raise CatalogueError(f"{path}: not a check catalogue of schema {_SCHEMA}; regenerate it")
    rows = data.get("checks")
    if not isinstance(rows, list) or not rows:
        raise CatalogueError(f"{path}: lists no check; regenerate it")
    entries = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not all(
            isinstance(row.get(k), str) and row.get(k) for k in ("id", "phase", "severity", "node")
        ):
            raise CatalogueError(f"{path}: check {number} lacks id, phase, severity or node")
        if row["phase"] not in PHASES:
            raise CatalogueError(f"{path}: check {row['id']!r} has phase {row['phase']!r}")
        entries.append(Entry(row["id"], row["phase"], row["severity"], row["node"]))
    return Catalogue(path, hashlib.sha256(raw).hexdigest()[:16], tuple(entries))


@final
@dataclass(slots=True)
class Coverage:
    """The part of the phase a run judged, and the part it did not."""

    phase: str
    catalogue: str
    digest: str
    expected: list[str] = field(default_factory=list)
    judged: list[str] = field(default_factory=list)
    not_judged: list[str] = field(default_factory=list)
    # Checks whose results contradict the catalogue: never accepted, stale or forged.
    mismatches: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.not_judged and not self.mismatches and bool(self.expected)

    def partial_reason(self) -> str | None:
        if not self.not_judged:
            return None
        return (
            f"{len(self.not_judged)} of {len(self.expected)} checks of phase {self.phase} "
            f"were not judged: {shorten(self.not_judged)}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "catalogue": self.catalogue,
            "catalogue_sha256": self.digest,
            "complete": self.complete,
            "checks_in_phase": len(self.expected),
            "judged": list(self.judged),
            "not_judged": list(self.not_judged),
            "mismatches": list(self.mismatches),
        }


def gate_phase(run_id: str, phase: str) -> str:
    """The value of GATE_PHASE for a gated run."""
    return f"{run_id}:{phase}"


def asked_phase(value: str, run_id: str) -> str:
    """The phase a gate asked this run to judge, or ''. Scoped to the run id, so a
    nested run (the deploy's phase-3 audit) does not take its parent's phase."""
    gate_run, _, phase = value.strip().partition(":")
    return phase if gate_run == run_id else ""


def shorten(ids: list[str], shown: int = _SHOWN) -> str:
    if len(ids) <= shown:
        return ", ".join(ids)
    return ", ".join(ids[:shown]) + f" and {len(ids) - shown} more"


def measure(
    catalogue: Catalogue,
    phase: str,
    results: Iterable[Result],
    place: Callable[[str], str] = str,
) -> Coverage:
    """Compare the results of a run with its phase's catalogue.

    `place` maps a node id to its catalogued place (`checks/...`) when pytest's rootdir
    is not the checks folder's parent (reports.checks_folder.NodePlaces).
    """
    expected = catalogue.of_phase(phase)
    by_node = {e.node: e for e in catalogue.entries}
    by_id = {e.id: e for e in catalogue.entries}
    seen: set[str] = set()
    mismatches: list[str] = []
    elsewhere: list[str] = []
    for r in results:
        node = place(r.nodeid).split("[", 1)[0]
        entry = by_node.get(node)
        if entry is None:
            known = by_id.get(r.check.id)
            where = f" (catalogued at {known.node})" if known else ""
            problem = (
                f"check {r.check.id!r} at {node} is not in {CATALOGUE.as_posix()}{where}: "
                f"regenerate it with `{REGENERATE}`"
            )
        elif entry.id != r.check.id:
            problem = f"{node} ran as check {r.check.id!r} but is catalogued as {entry.id!r}"
        elif entry.severity != r.severity.value:
            problem = (
                f"check {entry.id!r} ran as {r.severity.value} but is catalogued as "
                f"{entry.severity}: regenerate the catalogue with `{REGENERATE}`"
            )
        elif not in_phase(entry.phase, phase):
            if entry.id not in elsewhere:
                elsewhere.append(entry.id)
            continue
        else:
            seen.add(entry.id)
            continue
        if problem not in mismatches:
            mismatches.append(problem)
    if elsewhere:
        mismatches.append(
            f"{len(elsewhere)} checks of another phase ran in this run of phase {phase}: "
            f"{shorten(elsewhere)}"
        )
    ids = [e.id for e in expected]
    return Coverage(
        phase=phase,
        catalogue=str(catalogue.path),
        digest=catalogue.digest,
        expected=ids,
        judged=[i for i in ids if i in seen],
        not_judged=[i for i in ids if i not in seen],
        mismatches=mismatches,
    )
