"""The deploy journal: what changed, with its value before and after, on disk.

`<report-dir>/deploy-journal.json` is rewritten whole after every step (write beside
it, flush, fsync, rename, fsync the folder), so a crash leaves either the previous
journal or the new one, never half of one. A step is written as `planned` with its
value before the change is sent, then `applied` with its value after; a rollback
reverts both kinds, reading the current value first.

A journal is never overwritten. A deploy finds the previous one in its report folder
and, when that deploy ended clean (`deployed`, or `rolled-back` with every step
reverted), moves it aside under a timestamped name; anything else (unfinished, failed,
kept, a partial rollback, unreadable) refuses the deploy until it is rolled back, or
set aside on purpose (`--archive-journal`). The journal, its lock and the archived
journals are 0600.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import shlex
import threading
from pathlib import Path
from typing import Any, final

from readiness.files import PRIVATE_FILE, make_dirs, write_json

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
CLEAN_ENDS = ("deployed", "rolled-back")
ARCHIVE_OPTION = "--archive-journal"


class JournalError(Exception):
    """The journal cannot be read or is not one of ours; the message says why."""


class JournalBlocked(JournalError):
    """A deploy may not start: the report folder holds a journal that needs a rollback."""


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
            make_dirs(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
            os.fchmod(fd, PRIVATE_FILE)
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
    # The terraform record is checked by the rollback, after the steps are reverted.
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
        """A new journal; one already at `path` is never overwritten (see `prepare`)."""
        if path.exists() or path.is_symlink():
            raise JournalError(
                f"{path}: a journal is already there; journals are never overwritten"
            )
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

    def set_rollback(self, **values: Any) -> None:
        """The rollback's own record (`rollback`): timing, verification, differences."""
        with self._lock:
            current = self.data.get("rollback")
            current = dict(current) if isinstance(current, dict) else {}
            current.update(values)
            self.data["rollback"] = current
            self.flush()

    def record_phase(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.data["phases"].append(record)
            self.flush()


# -- before a deploy: the previous journal ---------------------------------------------


def should_destroy(terraform: dict[str, Any]) -> tuple[bool, str]:
    """Whether a rollback destroys the stack the journal's terraform record describes."""
    if not terraform.get("apply_started"):
        return False, "terraform applied nothing in this deploy"
    policy = str(terraform.get("destroy_on_rollback", "created"))
    if policy == "never":
        return False, "destroy_on_rollback = never: the applied stack is kept"
    if policy == "always":
        return True, "destroy_on_rollback = always"
    if terraform.get("created"):
        return True, "the deploy created the stack (destroy_on_rollback = created)"
    return False, "the stack existed before this deploy: the previous release is re-applied"


def should_reapply(terraform: dict[str, Any]) -> bool:
    """Whether a rollback re-applies the previous release: the deploy applied changes
    to a stack that existed before it (destroy_on_rollback = created)."""
    return (
        bool(terraform.get("apply_started"))
        and str(terraform.get("destroy_on_rollback", "created")) == "created"
        and not terraform.get("created")
    )


def rollback_command(journal: Path) -> str:
    """The command that finishes (or checks) the rollback of `journal`."""
    return f"readiness rollback --journal {shlex.quote(str(journal.absolute()))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def recovery_needed(path: Path) -> str | None:
    """Why the journal at `path` still needs a rollback, or None when its deploy ended
    clean: `deployed` with every step applied, or `rolled-back` with every step reverted
    and the stack destroyed where the rollback was to destroy it. Unreadable, unknown or
    unfinished is never clean."""
    try:
        journal = Journal.load(path)
    except JournalError as exc:
        return _one_line(f"it cannot be used: {exc}".replace(f"{path}: ", "", 1))
    status = journal.status
    about = f"the deploy of {journal.data['environment']!r} (status {status})"
    states = [step.get("state") for step in journal.steps]
    if status == "deployed":
        if all(state == "applied" for state in states):
            return None
        return f"{about} has steps that are not applied"
    if status != "rolled-back":
        return f"{about} did not end clean"
    if any(state != "reverted" for state in states):
        return f"{about} has steps that are not reverted"
    terraform = journal.data.get("terraform")
    if terraform is None:
        return None
    if not isinstance(terraform, dict):
        return f"{about} has an unreadable terraform record"
    destroy, _ = should_destroy(terraform)
    if destroy and terraform.get("destroyed") is not True:
        return f"{about} did not destroy what terraform applied"
    if should_reapply(terraform) and terraform.get("restored") is not True:
        return f"{about} did not restore the previous release"
    return None


def unrecovered_journal(report_dir: Path) -> Path | None:
    """The journal in `report_dir` that still needs a rollback, or None (no journal, or
    its deploy ended clean). An unreadable journal needs one: it is returned."""
    path = report_dir / FILE_NAME
    if not (path.exists() or path.is_symlink()):
        return None
    return path if recovery_needed(path) is not None else None


def _archive_name(path: Path, attempt: int) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    extra = f"-{attempt}" if attempt else ""
    return path.with_name(f"{path.stem}.{stamp}{extra}{path.suffix}")


def archive(path: Path) -> Path:
    """Move the journal aside under a timestamped name, never over another file: linked
    to the new name first, then unlinked from the old, so at every moment it is on disk
    under one name at least. Returns the new name."""
    for attempt in range(100):
        target = _archive_name(path, attempt)
        try:
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EMLINK):
                raise
            if target.exists() or target.is_symlink():  # no hard links here: rename
                continue
            path.rename(target)
        else:
            path.unlink()
        if target.is_file() and not target.is_symlink():
            target.chmod(PRIVATE_FILE)
        _fsync_dir(path.parent)
        return target
    raise JournalError(f"{path}: no free name to archive it under")


def prepare(path: Path, *, archive_requested: bool) -> Path | None:
    """Make room for a new journal at `path` (call it holding the journal's lock).

    No journal there: None. A journal whose deploy ended clean, or any journal when
    `archive_requested`: archived, its new name returned. Anything else: JournalBlocked,
    naming the journal and the rollback command, and the journal is left untouched."""
    if not (path.exists() or path.is_symlink()):
        return None
    reason = recovery_needed(path)
    if reason is not None and not archive_requested:
        raise JournalBlocked(
            f"{path}: a previous deploy's journal needs a rollback first: {reason}; "
            f"run `{rollback_command(path)}`, or pass {ARCHIVE_OPTION} to move it aside "
            "and deploy anyway"
        )
    try:
        return archive(path)
    except OSError as exc:
        raise JournalError(f"{path}: cannot archive the previous journal: {exc}") from None
