"""The evidence a verdict rests on, as every output shows it: the identity that read the
account, the tool's version, the checks' commit, the configuration's digest, the kind
of target and where the data came from (a live reading, or a replayed snapshot).

The core answers `pytest_readiness_evidence`; this module fills in the rest, keeps
only the documented keys with values of the documented types, and words them once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import metadata
from typing import Any

DISTRIBUTION = "readiness"
EMULATOR = "embedded emulator"
CUSTOM_ENDPOINT = "custom endpoint"
AWS = "real AWS account"
TARGET_KINDS = (EMULATOR, CUSTOM_ENDPOINT, AWS)
LIVE = "live"
SNAPSHOT = "snapshot"
_TEXT_KEYS = (
    "caller_arn",
    "checks_commit",
    "config_sha256",
    "collected_at",
    "snapshot_path",
)
KEYS = (
    "data_source",
    "collected_at",
    "snapshot_path",
    "target_kind",
    "caller_arn",
    "tool_version",
    "checks_commit",
    "checks_dirty",
    "config_sha256",
)


@functools.cache
def tool_version() -> str | None:
    """The installed version of this tool, None when it is not installed as a package."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def target_kind(target: Mapping[str, Any]) -> str | None:
    """The kind the target plugin gave (None: it does not know), else the emulator
    flag's (a real account); None when no target is known."""
    if "kind" in target:
        kind = target["kind"]
        return str(kind) if kind in TARGET_KINDS else None
    if not target:
        return None
    return EMULATOR if target.get("emulated") else AWS


def gather(reported: object, target: Mapping[str, Any]) -> dict[str, Any]:
    """Every documented key, from a plugin's answer: what it did not say, or said with
    the wrong type, is None (unknown), never guessed."""
    given: Mapping[str, Any] = reported if isinstance(reported, Mapping) else {}
    out: dict[str, Any] = dict.fromkeys(KEYS)
    for key in _TEXT_KEYS:
        value = given.get(key)
        out[key] = value if isinstance(value, str) and value else None
    source = given.get("data_source")
    out["data_source"] = source if source in (LIVE, SNAPSHOT) else None
    dirty = given.get("checks_dirty")
    out["checks_dirty"] = dirty if isinstance(dirty, bool) and out["checks_commit"] else None
    out["tool_version"] = tool_version()
    out["target_kind"] = target_kind(target)
    return out


def _dirty_text(dirty: object, yes: str, unknown: str) -> str:
    if dirty is True:
        return yes
    return "" if dirty is False else unknown


def replay_label(evidence: Mapping[str, Any]) -> str | None:
    """`SNAPSHOT REPLAY of FILE, collected AT` for a replay; None for anything else."""
    if evidence.get("data_source") != SNAPSHOT:
        return None
    path = evidence.get("snapshot_path") or "an unnamed file"
    when = evidence.get("collected_at") or "at an unknown time"
    return f"SNAPSHOT REPLAY of {path}, collected {when}"


def source_text(evidence: Mapping[str, Any]) -> str:
    """Where the data came from, in words."""
    replay = replay_label(evidence)
    if replay is not None:
        return replay
    if evidence.get("data_source") == LIVE:
        when = evidence.get("collected_at")
        return f"live, read at {when}" if when else "live, read time unknown"
    return "no inventory was read"


def facts(evidence: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the compact evidence block, the data source first."""
    commit = evidence.get("checks_commit")
    if commit:
        state = _dirty_text(evidence.get("checks_dirty"), " (dirty)", " (clean or dirty: unknown)")
        checks = f"git {commit}{state}"
    else:
        checks = "no git commit (not a git checkout, or git unavailable)"
    version = evidence.get("tool_version")
    digest = evidence.get("config_sha256")
    return [
        ("data", source_text(evidence)),
        ("target", str(evidence.get("target_kind") or "unknown")),
        ("caller", evidence.get("caller_arn") or "not read"),
        ("tool", f"readiness {version}" if version else "readiness, version unknown"),
        ("checks", checks),
        ("config", f"sha256 {digest}" if digest else "not loaded"),
    ]


def one_line(evidence: Mapping[str, Any], with_source: bool = True) -> str:
    """The evidence in one line (the terminal), the data source first unless left out;
    the commit and the digest shortened (the files carry them whole)."""
    parts = [source_text(evidence)] if with_source else []
    parts.append(f"caller {evidence.get('caller_arn') or 'not read'}")
    version = evidence.get("tool_version")
    parts.append(f"readiness {version}" if version else "readiness version unknown")
    commit = evidence.get("checks_commit")
    if commit:
        state = _dirty_text(evidence.get("checks_dirty"), " (dirty)", " (dirty?)")
        parts.append(f"checks {commit[:12]}{state}")
    else:
        parts.append("checks: no git commit")
    digest = evidence.get("config_sha256")
    parts.append(f"config sha256 {digest[:16]}" if digest else "config not loaded")
    return " · ".join(parts)
