"""Releases: what a rollback re-applies when the stack existed before the deploy.

A release is a module's configuration (its `.tf` and `.tf.json` files, named by a
content hash) plus the variables it was applied with. After a successful deploy its
configuration is copied into the terraform work folder (`releases/<hash>/`) and
`last-release.json` names it, with the public variables and the names (never the
values) of the sensitive ones. Before the next deploy applies anything, it records
that release as the previous one: a private copy of the configuration and of the
terraform state beside the journal (`previous-release.<stamp>/`), the state's serial
and lineage, and the variables. Every file is 0600 and every folder 0700, written
whole through readiness.files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from deploy_steps.terraform_runner import Terraform, TerraformError, managed_instances
from readiness.files import make_dirs, write_atomic, write_json

LAST_RELEASE = "last-release.json"
RELEASES = "releases"
HASHED = ("*.tf", "*.tf.json")
COPIED = (*HASHED, ".terraform.lock.hcl")
SNAPSHOT_PREFIX = "previous-release."
STATE_COPY = "terraform.tfstate"
CONFIGURATION_COPY = "configuration"


class ReleaseError(Exception):
    """A release's configuration cannot be used; the message names the place."""


def _files(folder: Path, patterns: Sequence[str]) -> list[Path]:
    found = {p for pattern in patterns for p in folder.glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.name)


def configuration_hash(folder: Path) -> str:
    """`sha256:<hex>` of the module's own .tf and .tf.json files (names and contents)."""
    files = _files(folder, HASHED)
    if not files:
        raise ReleaseError(f"{folder}: no .tf files")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def copy_configuration(source: Path, target: Path) -> str:
    """Copy the module's configuration files into `target` (created whole: written
    beside it, then renamed); returns the configuration's hash. An existing `target`
    with the same hash is kept."""
    wanted = configuration_hash(source)
    if target.is_dir():
        try:
            if configuration_hash(target) == wanted:
                return wanted
        except ReleaseError:
            pass
        shutil.rmtree(target)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    make_dirs(partial)
    for path in _files(source, COPIED):
        write_atomic(partial / path.name, path.read_text(encoding="utf-8"))
    if configuration_hash(partial) != wanted:
        shutil.rmtree(partial, ignore_errors=True)
        raise ReleaseError(f"{source}: the configuration changed while it was copied")
    partial.rename(target)
    return wanted


def usable_configuration(copy: Path, expected_hash: str) -> None:
    """ReleaseError unless `copy` holds the configuration whose hash is `expected_hash`."""
    if not copy.is_dir():
        raise ReleaseError(f"the previous configuration {copy} is not available (no such folder)")
    try:
        found = configuration_hash(copy)
    except (ReleaseError, OSError) as exc:
        raise ReleaseError(f"the previous configuration {copy} is not available: {exc}") from None
    if found != expected_hash:
        raise ReleaseError(
            f"the previous configuration {copy} is not the recorded one: its hash is "
            f"{found}, the journal records {expected_hash}"
        )


def label(release: Mapping[str, Any]) -> str:
    """How a release is named in messages: its hash, release variable and date."""
    text = str(release.get("hash", "?"))[:19]
    variables = release.get("variables")
    if isinstance(variables, dict) and isinstance(variables.get("release"), str | int):
        text += f" (release {variables['release']})"
    if release.get("recorded_at"):
        text += f", deployed {str(release['recorded_at'])[:19]} UTC"
    return text


# -- after a successful deploy -----------------------------------------------------------


def record_release(
    work_dir: Path,
    module_dir: Path,
    *,
    variables: Mapping[str, Any],
    sensitive_names: Sequence[str],
    journal: Path,
    expected_hash: str | None = None,
) -> dict[str, Any]:
    """Make the module's configuration the last successful release of this work folder
    (`expected_hash`: the configuration that was applied; a module edited since is not
    recorded). On any failure the record is removed (the next deploy then says none is
    recorded, rather than naming an older release), and the error is raised."""
    pointer = work_dir / LAST_RELEASE
    try:
        digest = configuration_hash(module_dir)
        if expected_hash is not None and digest != expected_hash:
            raise ReleaseError(
                f"{module_dir}: the configuration changed during the deploy ({expected_hash} "
                f"was applied, {digest} is there now)"
            )
        store = work_dir / RELEASES
        make_dirs(store)
        folder = store / digest.removeprefix("sha256:")
        copy_configuration(module_dir, folder)
        record = {
            "hash": digest,
            "configuration": str(folder),
            "module_dir": str(module_dir),
            "variables": dict(variables),
            "sensitive_vars": sorted(sensitive_names),
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "journal": str(journal),
        }
        write_json(pointer, record)
    except BaseException:
        pointer.unlink(missing_ok=True)
        raise
    for other in store.iterdir():  # only the last release is kept
        if other.is_dir() and other != folder:
            shutil.rmtree(other, ignore_errors=True)
    return record


def last_release(work_dir: Path) -> tuple[dict[str, Any] | None, str]:
    """The last successful release recorded in `work_dir`, or None and why not."""
    pointer = work_dir / LAST_RELEASE
    if not pointer.exists():
        return None, f"no successful release is recorded in {pointer}"
    try:
        record = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{pointer}: cannot be read: {exc}"
    if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
        return None, f"{pointer}: not a release record"
    try:
        usable_configuration(Path(str(record.get("configuration"))), record["hash"])
    except ReleaseError as exc:
        return None, f"{pointer}: {exc}"
    return record, ""


# -- before Phase 1 applies --------------------------------------------------------------


def snapshot_folder(report_dir: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return report_dir / f"{SNAPSHOT_PREFIX}{stamp}"


def capture_previous(
    runner: Terraform,
    snapshot: Path,
    *,
    stateful_types: Sequence[str],
    allow_stateful_replacement: bool,
) -> dict[str, Any]:
    """The journal's record of the release the stack holds before this deploy."""
    state = runner.state()
    resources = sorted(resource_values(state))
    record: dict[str, Any] = {
        "state": {
            "serial": state.get("serial"),
            "lineage": state.get("lineage"),
            "resources": resources,
            "copy": None,
        },
        "configuration": None,
        "configuration_note": "",
        "variables": None,
        "sensitive_vars": [],
        "stateful_types": list(stateful_types),
        "allow_stateful_replacement": allow_stateful_replacement,
    }
    if state:
        copy = snapshot / STATE_COPY
        write_atomic(copy, json.dumps(state, indent=1) + "\n")
        record["state"]["copy"] = str(copy)
    last, why = last_release(runner.work_dir)
    if last is None:
        record["configuration_note"] = why
        return record
    target = snapshot / CONFIGURATION_COPY
    make_dirs(snapshot)
    digest = copy_configuration(Path(str(last["configuration"])), target)
    record.update(
        configuration={
            "hash": digest,
            "copy": str(target),
            "recorded_at": last.get("recorded_at"),
            "journal": last.get("journal"),
            "variables": last.get("variables"),
        },
        variables=last.get("variables") if isinstance(last.get("variables"), dict) else {},
        sensitive_vars=[n for n in last.get("sensitive_vars", []) if isinstance(n, str) and n],
    )
    return record


# -- comparing ---------------------------------------------------------------------------


def resource_values(state: Mapping[str, Any]) -> dict[str, Any]:
    """Managed resource address → its attributes, from a state document."""
    found: dict[str, Any] = {}
    for base, key, attributes in managed_instances(state):
        found[base if key is None else f"{base}[{json.dumps(key)}]"] = attributes
    return found


def state_differences(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between two states, one line per resource (by address)."""
    old, new = resource_values(before), resource_values(now)
    lines = [f"{a}: in the state, not in the previous release" for a in sorted(set(new) - set(old))]
    lines += [f"{a}: in the previous release, missing now" for a in sorted(set(old) - set(new))]
    for address in sorted(set(old) & set(new)):
        if old[address] != new[address]:
            keys = sorted(
                k
                for k in set(old[address] or {}) | set(new[address] or {})
                if (old[address] or {}).get(k) != (new[address] or {}).get(k)
            )
            lines.append(f"{address}: differs from the previous release in {', '.join(keys)}")
    return lines


def plan_differences(plan: Mapping[str, Any]) -> list[str]:
    """Every change a saved plan would make (`address: actions`), outputs included."""
    lines = []
    for change in plan.get("resource_changes", []) or []:
        actions = list((change.get("change") or {}).get("actions", []))
        if actions in (["no-op"], ["read"], []):
            continue
        lines.append(f"{change.get('address', '?')}: would {'/'.join(actions)}")
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        actions = list((change or {}).get("actions", []))
        if actions not in (["no-op"], []):
            lines.append(f"output {name}: would {'/'.join(actions)}")
    return lines


def read_state_copy(path: str | None) -> dict[str, Any] | None:
    """The journalled copy of the previous state, or None when there is none."""
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TerraformError(f"the previous state copy {path} cannot be read: {exc}") from None
    return data if isinstance(data, dict) else None
