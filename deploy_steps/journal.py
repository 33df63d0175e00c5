"""The deploy journal: what changed, with its value before and after, on disk.

`<report-dir>/deploy-journal.json` is rewritten whole after every step (write beside
it, flush, fsync, rename, fsync the folder), so a crash leaves either the previous
journal or the new one, never half of one. A step is written as `planned` with its
value before the change is sent, then `applied` with its value after; a rollback
reverts both kinds, reading the current value first.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any, final

from readiness.files import write_json

VERSION = 1
FILE_NAME = "deploy-journal.json"
STATUSES = (
    "deploying",
    "deployed",
    "failed",
    "rolling-back",
    "rolled-back",
    "rollback-failed",
    "kept",
)


class JournalError(Exception):
    """The journal cannot be read or is not one of ours; the message says why."""


@final
class JournalLock:
    """Who is using a journal: a deploy for its whole run, `readiness rollback` while it
    reverts. Without it a rollback started beside a running deploy would revert values
    the deploy is still writing, and two rollbacks would race each other.

    An advisory lock (flock) on `<journal>.lock`, which names its holder. The kernel
    drops it when the holder exits, even when killed, so a crashed deploy never blocks
    its own recovery.
    """

    __slots__ = ("_fd", "journal", "path")

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.path = journal.with_name(journal.name + ".lock")
        self._fd: int | None = None

    def acquire(self, holder: str) -> JournalLock:
        if self._fd is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot open the journal's lock: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                current = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            finally:
                os.close(fd)
            raise JournalError(
                f"{self.journal}: in use by {current}; wait for it to end (or stop it), "
                "then run again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{holder} (pid {os.getpid()})".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> JournalLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_durably(path: Path, data: dict[str, Any]) -> None:
    """Whole or not at all, and the rename itself on disk (the folder fsynced too)."""
    write_json(path, data)
    _fsync_dir(path.parent)


def shown(value: Any, limit: int = 80) -> str:
    """A journal value in a message: its repr, cut short when long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check(data: Any, path: Path) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise JournalError(f"{path}: not a deploy journal (a JSON object is expected)")
    if data.get("version") != VERSION:
        raise JournalError(
            f"{path}: journal version {shown(data.get('version'))}, expected {VERSION}"
        )
    for key, kind in (("environment", str), ("steps", list), ("status", str)):
        if not isinstance(data.get(key), kind):
            raise JournalError(f"{path}: journal field {key!r} is missing or not a {kind.__name__}")
    if data["status"] not in STATUSES:
        raise JournalError(f"{path}: unknown journal status {shown(data['status'])}")
    for index, step in enumerate(data["steps"]):
        if not isinstance(step, dict):
            raise JournalError(f"{path}: step {index + 1} is not an object")
        for key in ("kind", "target", "state"):
            if key not in step:
                raise JournalError(f"{path}: step {index + 1} has no {key!r}")
        if not isinstance(step["target"], dict):
            raise JournalError(f"{path}: step {index + 1}: 'target' is not an object")
    terraform = data.get("terraform")
    if terraform is not None and not isinstance(terraform, dict):
        raise JournalError(f"{path}: journal field 'terraform' is not an object")
    return data


@final
class Journal:
    """One deploy's journal; every change goes to disk before the call returns."""

    __slots__ = ("_lock", "data", "path")

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self._lock = threading.Lock()

    @classmethod
    def create(cls, path: Path, **header: Any) -> Journal:
        data: dict[str, Any] = {
            "version": VERSION,
            "status": "deploying",
            "started": now(),
            **header,
            "terraform": None,
            "steps": [],
            "phases": [],
            "events": [],
        }
        journal = cls(path, data)
        journal.flush()
        return journal

    @classmethod
    def load(cls, path: Path) -> Journal:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise JournalError(f"{path}: no such journal") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise JournalError(f"{path}: cannot be read: {exc}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise JournalError(f"{path}: not valid JSON: {exc}") from None
        return cls(path, _check(data, path))

    def flush(self) -> None:
        write_durably(self.path, self.data)

    # -- recording ---------------------------------------------------------------------

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.data["steps"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    def set_status(self, status: str, reason: str = "") -> None:
        assert status in STATUSES
        with self._lock:
            self.data["status"] = status
            self.data["events"].append({"at": now(), "status": status, "reason": reason})
            self.flush()

    def plan_step(
        self, phase: str, kind: str, target: dict[str, Any], before: Any, after: Any
    ) -> int:
        """Record a change about to be sent; returns its index."""
        with self._lock:
            steps = self.data["steps"]
            steps.append(
                {
                    "seq": len(steps) + 1,
                    "phase": phase,
                    "kind": kind,
                    "target": target,
                    "before": before,
                    "intended": after,
                    "after": None,
                    "state": "planned",
                    "at": now(),
                }
            )
            self.flush()
            return len(steps) - 1

    def step_applied(self, index: int, after: Any) -> None:
        with self._lock:
            step = self.data["steps"][index]
            step.update(after=after, state="applied", applied_at=now())
            self.flush()

    def step_reverted(self, index: int, state: str, note: str = "") -> None:
        with self._lock:
            step = self.data["steps"][index]
            step.update(state=state, reverted_at=now(), note=note)
            self.flush()

    def set_terraform(self, **values: Any) -> None:
        with self._lock:
            current = dict(self.data.get("terraform") or {})
            current.update(values)
            self.data["terraform"] = current
            self.flush()

    def record_phase(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.data["phases"].append(record)
            self.flush()
