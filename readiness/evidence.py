"""What a verdict rests on, as the core knows it: the identity that read the account,
the commit of the checks, the digest of the configuration, where the data came from,
and what kind of target answered.

Nothing here may fail a run: what cannot be found out is None, and the reports say so.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final
from urllib.parse import urlsplit

from readiness.config import Environment
from readiness.inventory.model import GLOBAL, Snapshot
from readiness.inventory.runner import IDENTITY

EMULATOR_TARGET = "embedded emulator"
CUSTOM_ENDPOINT_TARGET = "custom endpoint"
AWS_TARGET = "real AWS account"
LIVE = "live"
SNAPSHOT = "snapshot"
GIT_TIMEOUT_S = 5.0
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
    )
)


def endpoint_is_private(url: str) -> bool:
    """Whether an endpoint URL names loopback, a private address, localhost or *.local."""
    try:
        host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").rstrip(".")
    except ValueError:
        return False
    host = host.lower()
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _PRIVATE_NETWORKS)


def target_kind(endpoint: str | None, emulated: bool) -> str:
    """The label of a target: the embedded emulator, a custom endpoint on loopback or a
    private network (not AWS itself), or a real AWS account."""
    if emulated:
        return EMULATOR_TARGET
    if endpoint and endpoint_is_private(endpoint):
        return CUSTOM_ENDPOINT_TARGET
    return AWS_TARGET


def config_sha256(env: Environment) -> str:
    """SHA-256 of the environment's validated settings as canonical JSON, secrets masked:
    the same settings give the same digest, whatever the file's layout or secret values."""
    canonical = json.dumps(
        env.without_secrets(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@final
@dataclass(frozen=True, slots=True)
class Checkout:
    """The git commit a folder is at, and whether the folder differs from it."""

    commit: str
    dirty: bool | None  # None: `git status` did not answer


def _git(folder: Path, *args: str, timeout_s: float) -> str | None:
    environ = dict(os.environ, GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=environ,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.stdout if done.returncode == 0 else None


def checkout_of(folder: Path, timeout_s: float = GIT_TIMEOUT_S) -> Checkout | None:
    """The folder's commit; None when it is not in a git tree or git is missing or slow."""
    if not folder.is_dir():
        return None
    head = _git(folder, "rev-parse", "HEAD", timeout_s=timeout_s)
    commit = (head or "").strip()
    if not _COMMIT.match(commit):
        return None
    status = _git(folder, "status", "--porcelain", "--", ".", timeout_s=timeout_s)
    return Checkout(commit=commit, dirty=None if status is None else bool(status.strip()))


def caller_arn(snapshot: Snapshot | None) -> str | None:
    """The ARN sts:GetCallerIdentity returned when the inventory was read."""
    if snapshot is None:
        return None
    entry = snapshot.kinds.get(IDENTITY, {}).get(GLOBAL, {})
    for record in entry.get("records", []) if isinstance(entry, dict) else []:
        data = record.get("data") if isinstance(record, dict) else None
        arn = data.get("Arn") if isinstance(data, dict) else None
        if isinstance(arn, str) and arn:
            return arn
    return None


def data_source(snapshot: Snapshot | None, replayed_from: Path | None) -> dict[str, Any]:
    """`live` with the time the inventory was read, or `snapshot` with the file replayed
    and the time it was collected; no source when no inventory was read at all."""
    collected_at = (snapshot.taken_at or None) if snapshot is not None else None
    if replayed_from is not None:
        return {
            "data_source": SNAPSHOT,
            "snapshot_path": str(replayed_from),
            "collected_at": collected_at,
        }
    return {
        "data_source": LIVE if snapshot is not None else None,
        "snapshot_path": None,
        "collected_at": collected_at,
    }
