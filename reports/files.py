"""Writing output files whole or not at all, readable by their owner only.

Reports hold account ids, resource names and whatever AWS returned: every file written
here is 0600 and every folder this module creates is 0700, whatever the umask. Folders
that already exist (a report folder someone chose) keep their mode.
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


def make_private(path: Path) -> None:
    """Make a file another program wrote readable by its owner only (if it is there)."""
    if path.is_file() and not path.is_symlink():
        path.chmod(PRIVATE_FILE)


def write_atomic(path: Path, text: str) -> None:
    """Write to a private temporary file beside `path`, fsync, then rename over it."""
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
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
