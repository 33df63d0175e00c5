"""Rollback from a journal: the Phase 2 values back to their journalled `before`, then
terraform destroy when `destroy_on_rollback` says so.

Every step reads the live value first and writes only when it differs, so running a
rollback twice (or after a crash that left a step half done) is harmless. A dry run
reads and reports, and writes nothing: its AWS access is the read-only one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from deploy_steps.journal import Journal, shown
from deploy_steps.services import KINDS, ServiceError, same
from deploy_steps.terraform_runner import Terraform, TerraformError
from readiness.aws.access import AwsAccess

Say = Callable[[str], None]
REVERTIBLE = ("planned", "applied", "revert-failed")


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


def should_destroy(terraform: dict[str, Any]) -> tuple[bool, str]:
    if not terraform.get("apply_started"):
        return False, "terraform applied nothing in this deploy"
    policy = str(terraform.get("destroy_on_rollback", "created"))
    if policy == "never":
        return False, "destroy_on_rollback = never: the applied stack is kept"
    if policy == "always":
        return True, "destroy_on_rollback = always"
    if terraform.get("created"):
        return True, "the deploy created the stack (destroy_on_rollback = created)"
    return False, "the stack existed before this deploy (destroy_on_rollback = created): kept"


def terraform_from_journal(terraform: dict[str, Any], say: Say | None) -> Terraform:
    state = terraform.get("state_path")
    return Terraform(
        Path(str(terraform["module_dir"])),
        Path(str(terraform["work_dir"])),
        binary=str(terraform.get("binary", "terraform")),
        state_path=Path(str(state)) if state else None,
        progress=say,
    )


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
    if step["state"] not in REVERTIBLE:
        report.actions.append(f"{label}: already {step['state']}")
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


def _terraform(journal: Journal, report: RollbackReport, say: Say) -> None:
    terraform = journal.data.get("terraform")
    if not terraform:
        report.actions.append("terraform: nothing was planned in this deploy")
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
        say(f"rollback: terraform destroy ({why})")
        runner.destroy()
        serial, left = runner.state_summary()
        if left:
            raise TerraformError(f"destroy left {', '.join(left)} in the state")
        report.actions.append(f"terraform: destroyed {len(addresses)} resource(s) ({why})")
        journal.set_terraform(destroyed=True, serial_after_rollback=serial)
    except (TerraformError, KeyError, OSError) as exc:
        report.problems.append(f"terraform: {exc}")


def run_rollback(
    journal: Journal, aws: AwsAccess, *, dry_run: bool, say: Say, reason: str = ""
) -> RollbackReport:
    """Revert everything the journal records; the journal says how it went."""
    report = RollbackReport(dry_run=dry_run)
    if not dry_run:
        journal.set_status("rolling-back", reason)
    _revert_steps(journal, aws, report, say)
    try:
        _terraform(journal, report, say)
    except Exception as exc:  # a terraform record the journal describes oddly
        report.problems.append(f"terraform: {type(exc).__name__}: {exc}")
    if not dry_run:
        if report.problems:
            journal.set_status("rollback-failed", "; ".join(report.problems))
        else:
            journal.set_status("rolled-back", reason or "rollback finished")
    return report
