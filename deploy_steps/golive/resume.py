"""The state of one go-live on disk (`out/go-live/<stamp>/state.json`), and `--resume`.

The file is rewritten whole (temporary file, fsync, rename) after every change, so an
interrupt at any moment leaves either the previous state or the next one. `--resume`
continues the latest unfinished go-live of the same environment from the first stage
whose result is no longer valid: the preflight and the audit expire after
`[environments.X.golive] audit_max_age_minutes`; a deploy on the embedded emulator dies
with the emulator, so it is never reused; a stage that was running when the go-live
stopped is run again; every stage after a re-run one is re-run too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, final

from reports.files import write_json

SCHEMA = 1
STATE_FILE = "state.json"
# The stages, in the flowchart's order; rollback and monitoring are optional.
ORDER = ("preflight", "audit", "decision", "deploy", "validations", "rollback", "monitoring")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime) -> str:
    """A folder name that sorts in time order: 20261127T024501Z."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


@final
@dataclass(slots=True)
class StageRecord:
    name: str
    status: str = "pending"  # pending | running | done | reused
    started_at: str = ""
    finished_at: str = ""
    duration_s: float = 0.0
    exit_code: int | None = None
    outcome: str = ""
    detail: str = ""
    report_dir: str = ""  # relative to the go-live folder
    trusted: bool = False
    reused_from: str = ""
    parts: list[dict[str, Any]] = field(default_factory=list)
    """The deploy's phases 1-4 as its journal timed them (name, started, duration, ...)."""

    @property
    def finished(self) -> bool:
        return self.status in ("done", "reused")

    def age_minutes(self, now: dt.datetime) -> float:
        if not self.finished_at:
            return float("inf")
        finished = dt.datetime.fromisoformat(self.finished_at)
        return (now - finished).total_seconds() / 60


@final
@dataclass(slots=True)
class RunState:
    environment: str
    stamp: str
    started_at: str
    emulated: bool
    options: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, StageRecord] = field(default_factory=dict)
    decision: dict[str, Any] | None = None
    finished: bool = False
    exit_code: int | None = None
    result: str = ""
    incident: str = ""
    resumed: list[str] = field(default_factory=list)

    def stage(self, name: str) -> StageRecord:
        if name not in self.stages:
            self.stages[name] = StageRecord(name)
        return self.stages[name]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema_version"] = SCHEMA
        data["stages"] = [asdict(self.stages[n]) for n in ORDER if n in self.stages]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        if data.get("schema_version") != SCHEMA:
            raise ValueError(f"state schema {data.get('schema_version')!r}, expected {SCHEMA}")
        stages = {s["name"]: StageRecord(**s) for s in data.get("stages", [])}
        fields = {k: v for k, v in data.items() if k not in ("schema_version", "stages")}
        return cls(**fields, stages=stages)


def save(state: RunState, run_dir: Path) -> None:
    write_json(run_dir / STATE_FILE, state.to_json())


def load(run_dir: Path) -> RunState:
    path = run_dir / STATE_FILE
    try:
        return RunState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ResumeError(f"{path}: cannot be read as a go-live state: {exc}") from None


class ResumeError(Exception):
    """There is nothing to resume, or the state cannot be trusted."""


def latest_unfinished(root: Path, environment: str) -> Path:
    """The newest go-live folder of `environment` under `root` that did not finish."""
    if not root.is_dir():
        raise ResumeError(f"no go-live to resume: {root} does not exist")
    for run_dir in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        if not (run_dir / STATE_FILE).is_file():
            continue
        state = load(run_dir)
        if state.environment != environment:
            continue
        if state.finished:
            raise ResumeError(
                f"the latest go-live of {environment!r} ({run_dir.name}) finished with exit "
                f"{state.exit_code}: nothing to resume (start a new one without --resume)"
            )
        return run_dir
    raise ResumeError(f"no unfinished go-live of {environment!r} under {root}")


def reusable(state: RunState, now: dt.datetime, audit_max_age_minutes: int) -> tuple[set[str], str]:
    """Which finished stages still count, and a sentence that says where the run restarts."""
    kept: set[str] = set()
    for name in ("preflight", "audit", "decision", "deploy", "validations"):
        record = state.stages.get(name)
        if record is None or not record.finished:
            why = "it did not finish" if record is not None else "it did not start"
            return kept, f"resuming at {name}: {why}"
        if name in ("preflight", "audit"):
            age = record.age_minutes(now)
            if age > audit_max_age_minutes:
                return kept, (
                    f"resuming at {name}: its result is {age:.0f} min old "
                    f"(audit_max_age_minutes = {audit_max_age_minutes})"
                )
            if record.exit_code not in (0, 1):
                return kept, f"resuming at {name}: it was {record.outcome or 'NO-GO'}"
        if name == "decision" and record.outcome != "proceed":
            return kept, "resuming at decision: it did not proceed last time"
        if name == "deploy":
            if state.emulated:
                return kept, (
                    "resuming at deploy: the embedded emulator that held the deployment "
                    "stopped with the interrupted go-live"
                )
            if record.exit_code not in (0, 1):
                return kept, "resuming at deploy: it did not succeed last time"
        kept.add(name)
    return kept, "every stage had finished"
