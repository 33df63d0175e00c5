"""The real terraform binary, driven with `-json -input=false`.

Every command runs with `CHECKPOINT_DISABLE=1`, `TF_IN_AUTOMATION=1`, `TF_INPUT=0` and
`TF_CLI_CONFIG_FILE` pointing at an empty file, so no user CLI configuration (plugin
caches, credentials, mirrors) changes what it does; `TF_DATA_DIR` keeps `.terraform`
in the run's work folder, not in the module. Progress lines are handed to a callback
as they come; error diagnostics become one `TerraformError` naming the resource
address.

Sensitive variables go to terraform as `TF_VAR_name` in its environment, never into
the var file, and their values are masked in every line handed on. Terraform runs with
umask 077, and the work folder and the var file are the owner's alone (0700, 0600).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from deploy_steps.private_files import UMASK
from readiness.files import PRIVATE_DIR, make_dirs, write_atomic

Progress = Callable[[str], None]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DROPPED_VARIABLES = ("TF_CLI_ARGS", "TF_LOG", "TF_PLUGIN_CACHE_DIR", "TF_WORKSPACE")
MASK = "***"
MIN_MASKED = 4


class TerraformError(Exception):
    """A terraform command failed; the message carries its diagnostics."""


class TerraformMissing(TerraformError):
    """The terraform binary is not there."""


@final
@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str = ""

    def describe(self) -> str:
        where = f"{self.address}: " if self.address else ""
        detail = f" ({self.detail.strip()})" if self.detail.strip() else ""
        return f"{where}{self.summary}{detail}"


@final
@dataclass(slots=True)
class Completed:
    command: list[str]
    returncode: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = []
        for message in self.messages:
            if message.get("type") != "diagnostic":
                continue
            diag = message.get("diagnostic") or {}
            out.append(
                Diagnostic(
                    severity=str(diag.get("severity", message.get("@level", "error"))),
                    summary=str(diag.get("summary", message.get("@message", ""))),
                    detail=str(diag.get("detail", "")),
                    address=_address(diag),
                )
            )
        return out

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


_BLOCK = re.compile(r'^(resource|data|module)\s+"([^"]+)"(?:\s+"([^"]+)")?')


def _address(diag: dict[str, Any]) -> str:
    """The diagnostic's resource address, or the block and file:line it points at."""
    if diag.get("address"):
        return str(diag["address"])
    context = str((diag.get("snippet") or {}).get("context") or "")
    match = _BLOCK.match(context)
    where = ""
    span = diag.get("range") or {}
    if span.get("filename"):
        where = f"{span['filename']}:{(span.get('start') or {}).get('line', '?')}"
    if match is None:
        return where
    kind, first, second = match.groups()
    block = {"resource": f"{first}.{second}", "data": f"data.{first}.{second}"}.get(
        kind, f"module.{first}"
    )
    return f"{block} ({where})" if where else block


def find_binary(name: str = "terraform") -> str:
    """The binary's path, or TerraformMissing with what to do about it."""
    found = shutil.which(name)
    if found is None:
        raise TerraformMissing(
            f"terraform binary {name!r} not found on PATH: install Terraform 1.10 or later "
            "(https://developer.hashicorp.com/terraform/install) or set deploy.terraform_binary"
        )
    return found


def variable_value(value: Any) -> str:
    """A variable's value as TF_VAR_name takes it: a string as it is, anything else in
    the JSON form terraform parses for lists, maps, numbers and booleans."""
    return value if isinstance(value, str) else json.dumps(value)


def secret_strings(variables: Mapping[str, Any]) -> list[str]:
    """Every string a sensitive value could show up as, longest first (for masking)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if len(value) >= MIN_MASKED:  # masking a letter or two would garble the output
                found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None and not isinstance(value, bool):
            text = str(value)
            if len(text) >= MIN_MASKED:
                found.add(text)

    for value in variables.values():
        walk(value)
        if not isinstance(value, str) and value is not None:
            found.add(variable_value(value))
    return sorted(found, key=len, reverse=True)


def terraform_environment(
    work_dir: Path,
    base: dict[str, str] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The variables every command runs with (and none of the user's TF_CLI_ARGS), and
    the sensitive terraform variables as TF_VAR_name."""
    env = {
        k: v
        for k, v in (dict(os.environ) if base is None else base).items()
        if not k.startswith(_DROPPED_VARIABLES)
    }
    empty = work_dir / "empty.tfrc"
    if not empty.exists():
        make_dirs(work_dir)
        write_atomic(empty, "")
    env.update(
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        TF_CLI_CONFIG_FILE=str(empty),
        TF_DATA_DIR=str(work_dir / "data"),
    )
    for name, value in (variables or {}).items():
        env[f"TF_VAR_{name}"] = variable_value(value)
    return env


def _human(message: dict[str, Any]) -> str | None:
    kind = message.get("type")
    if kind in ("version", "log") and message.get("@level") not in ("warn", "error"):
        return None
    text = str(message.get("@message", "")).strip()
    return text or None


@final
class Terraform:
    """One module, one work folder (data dir, var file, plan, local state)."""

    __slots__ = (
        "_secrets",
        "_variables",
        "binary",
        "module_dir",
        "progress",
        "state_path",
        "timeout_s",
        "work_dir",
    )

    def __init__(
        self,
        module_dir: Path,
        work_dir: Path,
        *,
        binary: str = "terraform",
        state_path: Path | None = None,
        progress: Progress | None = None,
        timeout_s: float = 1800.0,
        sensitive: Mapping[str, Any] | None = None,
    ) -> None:
        """`sensitive`: variables passed as TF_VAR_name only, and masked in all output."""
        if not module_dir.is_dir():
            raise TerraformError(f"terraform module folder {module_dir} does not exist")
        self.binary = find_binary(binary)
        self.module_dir = module_dir
        self.work_dir = work_dir
        self.state_path = state_path
        self.progress = progress
        self.timeout_s = timeout_s
        self._variables = dict(sensitive or {})
        self._secrets = secret_strings(self._variables)
        try:
            make_dirs(work_dir)
            work_dir.chmod(PRIVATE_DIR)  # ours, even when a previous run made it
        except OSError as exc:
            raise TerraformError(f"terraform work folder {work_dir}: {exc}") from None

    @property
    def sensitive_names(self) -> list[str]:
        return sorted(self._variables)

    def mask(self, text: str) -> str:
        """`text` with every sensitive value replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def _environment(self) -> dict[str, str]:
        return terraform_environment(self.work_dir, variables=self._variables)

    @property
    def plan_path(self) -> Path:
        return self.work_dir / "deploy.tfplan"

    @property
    def var_file(self) -> Path:
        return self.work_dir / "readiness.tfvars.json"

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(self.mask(line))

    def run(self, args: Sequence[str], *, what: str, stream: bool = True) -> Completed:
        command = [self.binary, f"-chdir={self.module_dir}", *args]
        completed = Completed(command=command, returncode=-1)
        try:
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                env=self._environment(),
                umask=UMASK,
            )
        except OSError as exc:
            raise TerraformMissing(f"cannot run {self.binary}: {exc}") from None
        assert process.stdout is not None
        try:
            for raw in process.stdout:
                line = _ANSI.sub("", raw).rstrip()
                if not line:
                    continue
                try:
                    message = json.loads(line)
                except ValueError:
                    message = None
                if isinstance(message, dict):
                    completed.messages.append(message)
                    human = _human(message)
                    if human and stream:
                        self._say(f"terraform {what}: {human}")
                else:
                    completed.text.append(line)
                    if stream:
                        self._say(f"terraform {what}: {line}")
            completed.returncode = process.wait(timeout=self.timeout_s)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            process.stdout.close()
        if completed.returncode != 0:
            problems = [d.describe() for d in completed.errors()]
            if not problems:
                problems = completed.text[-5:] or [f"exit status {completed.returncode}"]
            raise TerraformError(self.mask(f"terraform {what} failed: " + "; ".join(problems)))
        return completed

    def _capture(self, args: Sequence[str], what: str) -> str:
        """A command whose stdout is a document (show -json, output -json, state pull)."""
        command = [self.binary, f"-chdir={self.module_dir}", *args]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                env=self._environment(),
                timeout=self.timeout_s,
                check=False,
                umask=UMASK,
            )
        except OSError as exc:
            raise TerraformMissing(f"cannot run {self.binary}: {exc}") from None
        if done.returncode != 0:
            tail = _ANSI.sub("", done.stderr or done.stdout).strip().splitlines()[-5:]
            raise TerraformError(self.mask(f"terraform {what} failed: " + " ".join(tail)))
        return done.stdout

    # -- the commands ------------------------------------------------------------------

    def write_vars(self, variables: dict[str, Any]) -> None:
        """The var file (0600): never a sensitive variable, which goes as TF_VAR_name."""
        clash = sorted(set(variables) & set(self._variables))
        if clash:
            raise TerraformError(f"sensitive variable {clash[0]!r} would go to the var file")
        write_atomic(self.var_file, json.dumps(variables, indent=1) + "\n")

    def init(self) -> Completed:
        args = ["init", "-input=false", "-json", "-no-color"]
        if self.state_path is not None:
            args.append(f"-backend-config=path={self.state_path}")
            args.append("-reconfigure")
        return self.run(args, what="init")

    def _var_args(self) -> list[str]:
        return [f"-var-file={self.var_file}"] if self.var_file.exists() else []

    def plan(self, *, destroy: bool = False) -> Completed:
        args = ["plan", "-input=false", "-json", "-no-color", f"-out={self.plan_path}"]
        if destroy:
            args.append("-destroy")
        return self.run(args + self._var_args(), what="plan")

    def show_plan(self) -> dict[str, Any]:
        text = self._capture(["show", "-json", "-no-color", str(self.plan_path)], "show")
        return _document(text, "show -json")

    def discard_plan(self) -> None:
        """The saved plan, once applied or refused: it may hold variables' values."""
        self.plan_path.unlink(missing_ok=True)

    def apply_plan(self) -> Completed:
        return self.run(
            ["apply", "-input=false", "-json", "-no-color", "-auto-approve", str(self.plan_path)],
            what="apply",
        )

    def outputs(self) -> dict[str, Any]:
        text = self._capture(["output", "-json", "-no-color"], "output")
        data = _document(text, "output -json")
        # Sensitive outputs are left out: they would end up in reports. So is an output
        # that holds a sensitive variable's value the module did not mark sensitive.
        return {
            k: v.get("value")
            for k, v in data.items()
            if isinstance(v, dict)
            and not v.get("sensitive")
            and self.mask(json.dumps(v.get("value"))) == json.dumps(v.get("value"))
        }

    def destroy(self) -> Completed:
        args = ["destroy", "-input=false", "-json", "-no-color", "-auto-approve"]
        return self.run(args + self._var_args(), what="destroy")

    def state(self) -> dict[str, Any]:
        """The current state (any backend); an empty dict when there is none yet."""
        text = self._capture(["state", "pull"], "state pull")
        if not text.strip():
            return {}
        return _document(text, "state pull")

    def state_summary(self) -> tuple[int | None, list[str]]:
        """The state's serial and the addresses of its managed resources."""
        state = self.state()
        serial = state.get("serial")
        addresses: list[str] = []
        for base, key, _ in managed_instances(state):
            if key is None:
                addresses.append(base)
            elif isinstance(key, str):
                addresses.append(f'{base}["{key}"]')
            else:
                addresses.append(f"{base}[{key}]")
        return (int(serial) if isinstance(serial, int) else None), addresses


def managed_instances(state: Mapping[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(address without index, index_key, attributes) of each managed resource instance
    in a state document."""
    for resource in state.get("resources", []) or []:
        if resource.get("mode") != "managed":
            continue
        base = f"{resource.get('type')}.{resource.get('name')}"
        if resource.get("module"):
            base = f"{resource['module']}.{base}"
        for instance in resource.get("instances", []) or []:
            yield base, instance.get("index_key"), instance.get("attributes")


def _document(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TerraformError(f"terraform {what} did not print JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TerraformError(f"terraform {what} printed {type(data).__name__}, not an object")
    return data
