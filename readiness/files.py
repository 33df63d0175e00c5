"""Writing files whole or not at all (journal, inventory, ledger), readable by their
owner only: every file written here is 0600 and every folder this module creates is
0700, whatever the umask. Folders that already exist keep their mode.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_dirs(path: Path) -> None:
    """Create `path` and its missing parents, each one 0700; existing folders stay as
    they are (`mkdir -p` would give the parents the umask's mode)."""
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            if folder.is_dir():
                continue  # made by someone else meanwhile: not ours to change
            raise
        folder.chmod(PRIVATE_DIR)  # the umask may have taken bits away


def write_atomic(path: Path, text: str) -> None:
    """Write beside `path` (a private temporary file), fsync, rename over it: a reader
    never sees half a file."""
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=1, default=str) + "\n")
