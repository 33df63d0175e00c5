"""Rollback from a journal: the Phase 2 values back to their journalled `before`, then
terraform destroy when `destroy_on_rollback` says so.

Every step reads the live value first and writes only when it differs, so running a
rollback twice (or after a crash that left a step half done) is harmless. A dry run
reads and reports, and writes nothing: its AWS access is the read-only one.

Anything the journal describes in a way the rollback does not know (a step's unknown
kind or state, a malformed terraform record) is a problem naming it, never "done": the
rest is reverted and the rollback ends not restored. The sensitive terraform variables
the deploy passed (their names are journalled, never their values) are asked for only
when terraform destroy is about to run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from deploy_steps.journal import Journal, should_destroy, shown
from deploy_steps.services import KINDS, ServiceError, same
from deploy_steps.terraform_runner import Terraform, TerraformError
from readiness.aws.access import AwsAccess
from readiness.config import ConfigError, Environment

Say = Callable[[str], None]
VariableSource = Callable[[Sequence[str]], Mapping[str, Any]]
"""The values of the named sensitive terraform variables; ConfigError naming the file,
the key and the variable when one cannot be had."""
REVERTIBLE = ("planned", "applied", "revert-failed")
DONE = "reverted"
POLICIES = ("created", "always", "never")
_RECORD: dict[str, tuple[type, ...]] = {
    "module_dir": (str,),
    "work_dir": (str,),
    "binary": (str,),
    "destroy_on_rollback": (str,),
    "apply_started": (bool,),
    "created": (bool,),
}
_OPTIONAL: dict[str, tuple[type, ...]] = {
    "state_path": (str, type(None)),
    "destroyed": (bool,),
    "sensitive_vars": (list,),
}


@final
@dataclass(slots=True)
class RollbackReport:
    dry_run: bool
    actions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pending: int = 0

    @property
    def restored(self) -> bool:
        """The state is the journalled one (nothing left to do) and nothing failed."""
        return not self.problems and (not self.dry_run or self.pending == 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "actions": list(self.actions),
            "problems": list(self.problems),
            "pending": self.pending,
            "restored": self.restored,
        }


def terraform_record(terraform: Any) -> dict[str, Any]:
    """The journal's terraform record, checked: ValueError says what is wrong with it."""
    if not isinstance(terraform, dict):
        raise ValueError(f"it is {shown(terraform)}, not an object")
    for key, kinds in _RECORD.items():
        if key not in terraform:
            raise ValueError(f"it has no {key!r}")
        if not isinstance(terraform[key], kinds):
            raise ValueError(f"{key!r} is {shown(terraform[key])}")
    for key, kinds in _OPTIONAL.items():
        if key in terraform and not isinstance(terraform[key], kinds):
            raise ValueError(f"{key!r} is {shown(terraform[key])}")
    if terraform["destroy_on_rollback"] not in POLICIES:
        raise ValueError(f"'destroy_on_rollback' is {shown(terraform['destroy_on_rollback'])}")
    names = terraform.get("sensitive_vars", [])
    if not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"'sensitive_vars' is {shown(names)}")
    return terraform


def terraform_from_journal(
    terraform: dict[str, Any], say: Say | None, sensitive: Mapping[str, Any] | None = None
) -> Terraform:
    state = terraform.get("state_path")
    return Terraform(
        Path(str(terraform["module_dir"])),
        Path(str(terraform["work_dir"])),
        binary=str(terraform.get("binary", "terraform")),
        state_path=Path(str(state)) if state else None,
        progress=say,
        sensitive=sensitive,
    )


def environment_variables(env: Environment) -> VariableSource:
    """The sensitive variables from a loaded environment; ConfigError for a name it no
    longer has."""

    def resolve(names: Sequence[str]) -> Mapping[str, Any]:
        given = env.deploy.terraform_vars
        for name in names:
            if name not in given:
                raise ConfigError(
                    f"environments.{env.name}.deploy.terraform_vars: no {name!r}, which the "
                    "deploy passed to terraform as a sensitive variable"
                )
        return {name: given[name] for name in names}

    return resolve


def _revert_steps(journal: Journal, aws: AwsAccess, report: RollbackReport, say: Say) -> None:
    steps = journal.steps
    for index in reversed(range(len(steps))):
        try:
            _revert_step(journal, index, aws, report, say)
        except Exception as exc:  # a step the journal describes oddly: say so, go on
            report.problems.append(f"step {index + 1}: {type(exc).__name__}: {exc}")


def _revert_step(
    journal: Journal, index: int, aws: AwsAccess, report: RollbackReport, say: Say
) -> None:
    step = journal.steps[index]
    kind = KINDS.get(str(step["kind"]))
    if kind is None:
        report.problems.append(f"step {index + 1}: unknown kind {shown(step['kind'])}")
        return
    target = dict(step["target"])
    label = kind.label(target)
    state = step["state"]
    if state == DONE:
        report.actions.append(f"{label}: already {DONE}")
        return
    if state not in REVERTIBLE:
        report.problems.append(
            f"step {index + 1} ({label}): unknown state {shown(state)}; not reverted"
        )
        return
    before = step.get("before")
    if not isinstance(before, dict):
        report.problems.append(f"{label}: the journal has no value before the change")
        return
    try:
        current = kind.read(aws, target)
        if same(kind.name, current, before):
            report.actions.append(f"{label}: already {before} (nothing to do)")
            if not report.dry_run:
                journal.step_reverted(index, "reverted", "already at the value before")
            return
        report.pending += 1
        if report.dry_run:
            report.actions.append(f"{label}: would set {current} back to {before}")
            return
        say(f"rollback: {label}: {current} -> {before}")
        kind.write(aws, target, before)
        after = kind.read(aws, target)
        if not same(kind.name, after, before):
            raise ServiceError(f"{label}: still {after} after the revert, expected {before}")
        report.actions.append(f"{label}: set back to {before}")
        journal.step_reverted(index, "reverted")
    except ServiceError as exc:
        report.problems.append(str(exc))
        if not report.dry_run:
            journal.step_reverted(index, "revert-failed", str(exc))


def _terraform(
    journal: Journal,
    report: RollbackReport,
    say: Say,
    variables: VariableSource | None,
) -> None:
    raw = journal.data.get("terraform")
    if raw is None:
        report.actions.append("terraform: nothing was planned in this deploy")
        return
    try:
        terraform = terraform_record(raw)
    except ValueError as exc:
        report.problems.append(f"terraform: the journal's terraform record is malformed: {exc}")
        return
    destroy, why = should_destroy(terraform)
    if not destroy:
        report.actions.append(f"terraform: {why}")
        return
    try:
        runner = terraform_from_journal(terraform, say)
        if not report.dry_run:
            runner.init()
        serial, addresses = runner.state_summary()
        if not addresses:
            report.actions.append(f"terraform: nothing left in the state (serial {serial})")
            if not report.dry_run and terraform.get("destroyed") is not True:
                journal.set_terraform(destroyed=True, serial_after_rollback=serial)
            return
        report.pending += 1
        if report.dry_run:
            report.actions.append(
                f"terraform: would destroy {len(addresses)} resource(s) ({why}): "
                + ", ".join(addresses)
            )
            return
        names = list(terraform.get("sensitive_vars", []))
        try:
            if names and variables is None:
                raise ConfigError(f"no source for the sensitive variables {', '.join(names)}")
            sensitive = variables(names) if variables is not None and names else {}
        except ConfigError as exc:
            report.problems.append(f"terraform: not destroyed: {exc}")
            return
        runner = terraform_from_journal(terraform, say, sensitive)
        say(f"rollback: terraform destroy ({why})")
        runner.destroy()
        serial, left = runner.state_summary()
        if left:
            raise TerraformError(f"destroy left {', '.join(left)} in the state")
        report.actions.append(f"terraform: destroyed {len(addresses)} resource(s) ({why})")
        journal.set_terraform(destroyed=True, serial_after_rollback=serial)
    except (TerraformError, OSError) as exc:
        report.problems.append(f"terraform: {exc}")


def run_rollback(
    journal: Journal,
    aws: AwsAccess,
    *,
    dry_run: bool,
    say: Say,
    reason: str = "",
    variables: VariableSource | None = None,
) -> RollbackReport:
    """Revert everything the journal records; the journal says how it went.
    `variables` gives the sensitive terraform variables, asked only before a destroy."""
    report = RollbackReport(dry_run=dry_run)
    if not dry_run:
        journal.set_status("rolling-back", reason)
    _revert_steps(journal, aws, report, say)
    try:
        _terraform(journal, report, say, variables)
    except Exception as exc:  # a terraform record the journal describes oddly
        report.problems.append(f"terraform: {type(exc).__name__}: {exc}")
    if not dry_run:
        if report.problems:
            journal.set_status("rollback-failed", "; ".join(report.problems))
        else:
            journal.set_status("rolled-back", reason or "rollback finished")
    return report
