"""Files and folders only their owner can read: everything the deploy writes under the
report folder (journal, its lock, archived journals, the terraform work folder, the
deploy log) is 0600 and every folder it creates 0700. Whole files and folders go through
readiness.files (write_atomic, make_dirs); this adds the append-only deploy log, and
terraform runs with umask 077 so its state, plan and data folder are the same."""

from __future__ import annotations

import os
from pathlib import Path

from readiness.files import PRIVATE_FILE

UMASK = 0o077


def append_private(path: Path, text: str) -> None:
    """Append to a log that only its owner may read."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(text)
