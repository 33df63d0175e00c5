"""Files and folders only their owner can read: everything the deploy writes under the
report folder (journal, its lock, archived journals, the terraform work folder, the
deploy log) is 0600 and every folder it creates 0700. Terraform itself runs with umask
077, so its state, plan and data folder are the same.

Whole-file writes and folders are readiness.files' (the one private writer); this adds
the append-only log and the names the deploy code uses."""

from __future__ import annotations

import os
from pathlib import Path

from readiness.files import PRIVATE_DIR, PRIVATE_FILE, make_dirs, write_atomic

FILE_MODE = PRIVATE_FILE
DIR_MODE = PRIVATE_DIR
UMASK = 0o077


def private_dir(path: Path) -> Path:
    """`path` and every missing folder above it, created 0700 (folders that are there
    already keep their mode)."""
    make_dirs(path)
    return path


def append_private(path: Path, text: str) -> None:
    """Append to a log that only its owner may read."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(text)


def write_private(path: Path, text: str) -> None:
    """Create or replace a file 0600, whole (write beside, flush, fsync, rename)."""
    write_atomic(path, text)
