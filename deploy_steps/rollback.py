"""Rollback from a journal: the Phase 2 values back to their journalled `before`, then
terraform: the previous release re-applied when the stack existed before the deploy
(a plan of the previous configuration against the current state, through the plan
gate, then apply), or terraform destroy when the deploy created the stack (or
`destroy_on_rollback = always`). Then it verifies: a plan of the previous configuration
shows no changes, and every Phase 2 value read back equals its journalled `before`.
Only then is the result "restored"; anything else is "partially restored", with every
difference named.

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

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from deploy_steps import plan_gate
from deploy_steps.journal import Journal, now, should_destroy, should_reapply, shown
from deploy_steps.release import (
    ReleaseError,
    label,
    plan_differences,
    read_state_copy,
    state_differences,
    usable_configuration,
)
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
BUDGET_S = 300.0
"""The seed's rollback budget: about 5 minutes."""
REAPPLY_FOLDER = "rollback"
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
    "previous": (dict,),
}


@final
@dataclass(slots=True)
class RollbackReport:
    dry_run: bool
    actions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    pending: int = 0
    verified: bool = False
    release: str = ""
    duration_s: float = 0.0

    @property
    def restored(self) -> bool:
        """Nothing failed and the state is the journalled one: verified by reading it
        back (a rollback), or nothing left to do (a dry run)."""
        if self.problems or self.differences:
            return False
        return self.pending == 0 if self.dry_run else self.verified

    @property
    def result(self) -> str:
        if self.dry_run:
            return "nothing to do" if self.restored else "changes to make"
        return "restored" if self.restored else "partially restored"

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "actions": list(self.actions),
            "problems": list(self.problems),
            "differences": list(self.differences),
            "pending": self.pending,
            "restored": self.restored,
            "verified": self.verified,
            "release": self.release,
            "result": self.result,
            "duration_s": round(self.duration_s, 3),
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


def _sensitive(names: Sequence[str], variables: VariableSource | None) -> Mapping[str, Any]:
    """The sensitive variables' values (ConfigError naming a missing one)."""
    if not names:
        return {}
    if variables is None:
        raise ConfigError(f"no source for the sensitive variables {', '.join(names)}")
    return variables(names)


def _terraform(
    journal: Journal,
    report: RollbackReport,
    say: Say,
    variables: VariableSource | None,
) -> None:
    raw = journal.data.get("terraform")
    if raw is None:
        report.actions.append("terraform: nothing was planned in this deploy")
        report.release = "no terraform in this deploy"
        return
    try:
        terraform = terraform_record(raw)
    except ValueError as exc:
        report.problems.append(f"terraform: the journal's terraform record is malformed: {exc}")
        return
    if should_reapply(terraform):
        _reapply(journal, terraform, report, say, variables)
        return
    destroy, why = should_destroy(terraform)
    if not destroy:
        report.actions.append(f"terraform: {why}")
        report.release = f"terraform left as it is ({why})"
        return
    report.release = "no stack (the deploy created it)"
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
            sensitive = _sensitive(names, variables)
        except ConfigError as exc:
            report.problems.append(f"terraform: not destroyed: {exc}")
            report.differences += [f"{a}: still in the state" for a in addresses]
            return
        runner = terraform_from_journal(terraform, say, sensitive)
        say(f"rollback: terraform destroy ({why})")
        runner.destroy()
        serial, left = runner.state_summary()
        if left:
            report.differences += [f"{a}: still in the state after the destroy" for a in left]
            raise TerraformError(f"destroy left {', '.join(left)} in the state")
        report.actions.append(f"terraform: destroyed {len(addresses)} resource(s) ({why})")
        journal.set_terraform(destroyed=True, serial_after_rollback=serial)
    except (TerraformError, OSError) as exc:
        report.problems.append(f"terraform: {exc}")


def _previous(terraform: dict[str, Any]) -> dict[str, Any]:
    """The journal's record of the previous release; ValueError says what is missing."""
    previous: dict[str, Any] | None = terraform.get("previous")
    if previous is None:
        raise ValueError(
            "the journal records no previous release (it was written by an older readiness)"
        )
    configuration = previous.get("configuration")
    if not isinstance(configuration, dict):
        note = str(previous.get("configuration_note") or "no configuration recorded")
        raise ValueError(f"no previous configuration: {note}")
    for key in ("hash", "copy"):
        if not isinstance(configuration.get(key), str):
            raise ValueError(
                f"the previous configuration's {key!r} is {shown(configuration.get(key))}"
            )
    if not isinstance(previous.get("variables", {}), dict):
        raise ValueError(f"the previous variables are {shown(previous.get('variables'))}")
    return previous


def _state_differences(terraform: dict[str, Any], report: RollbackReport, say: Say) -> None:
    """Name what differs from the journalled state copy (when the previous release
    cannot be re-applied, this is what stays different)."""
    previous = terraform.get("previous")
    state = previous.get("state") if isinstance(previous, dict) else None
    copy = state.get("copy") if isinstance(state, dict) else None
    try:
        before = read_state_copy(str(copy) if copy else None)
        local = terraform.get("state_path")
        if local:
            exists = Path(str(local)).exists()
            current = (read_state_copy(str(local)) if exists else None) or {}
        else:  # the deploy's own work folder, initialised by the deploy
            current = terraform_from_journal(terraform, say).state()
    except (TerraformError, OSError) as exc:
        report.differences.append(f"terraform: the state cannot be compared: {exc}")
        return
    if before is None:
        report.differences.append(
            "terraform: the stack is as the failed release left it (no copy of the "
            "state before the deploy to compare it with)"
        )
        return
    found = state_differences(before, current)
    report.differences += [f"terraform: {line}" for line in found] or [
        "terraform: the resources match the state before the deploy, but the previous "
        "release was not re-applied"
    ]


def _reapply(
    journal: Journal,
    terraform: dict[str, Any],
    report: RollbackReport,
    say: Say,
    variables: VariableSource | None,
) -> None:
    """Plan the previous configuration against the current state, gate, apply, verify."""
    try:
        previous = _previous(terraform)
        configuration = previous["configuration"]
        report.release = label({**configuration, "variables": previous.get("variables")})
        usable_configuration(Path(configuration["copy"]), configuration["hash"])
    except (ValueError, ReleaseError, OSError) as exc:
        report.release = report.release or "none (the previous release is unknown)"
        report.problems.append(f"terraform: not restored: {exc}")
        _state_differences(terraform, report, say)
        return
    if report.dry_run:
        if terraform.get("restored") is True:
            report.actions.append(f"terraform: the previous release {report.release} is restored")
            return
        report.pending += 1
        report.actions.append(
            f"terraform: would re-apply the previous release {report.release} "
            f"(configuration {configuration['copy']}), then verify it"
        )
        return
    try:
        names = [str(n) for n in previous.get("sensitive_vars", []) or []]
        sensitive = _sensitive(names, variables)
    except ConfigError as exc:
        report.problems.append(f"terraform: not restored: {exc}")
        _state_differences(terraform, report, say)
        return
    state = terraform.get("state_path")
    try:
        runner = Terraform(
            Path(configuration["copy"]),
            Path(str(terraform["work_dir"])) / REAPPLY_FOLDER,
            binary=str(terraform.get("binary", "terraform")),
            state_path=Path(str(state)) if state else None,
            progress=say,
            sensitive=sensitive,
        )
        runner.write_vars(dict(previous.get("variables") or {}))
        runner.init()
        try:
            runner.plan()
            plan = runner.show_plan()
            review = plan_gate.review(
                plan,
                [str(t) for t in previous.get("stateful_types", [])],
                allow=previous.get("allow_stateful_replacement") is True,
            )
            journal.set_terraform(rollback_plan=review.to_json())
            say(f"rollback: terraform plan of the previous release: {review.summary()}")
            if review.refused:
                for item in review.destructive:
                    report.problems.append(f"terraform: plan gate: {item.describe()}; not applied")
                report.differences += [f"terraform: {line}" for line in plan_differences(plan)]
                return
            if review.add + review.change + review.destroy:
                report.pending += 1
                journal.set_rollback(apply_started=now())
                runner.apply_plan()
                report.actions.append(
                    f"terraform: re-applied the previous release {report.release}: "
                    f"{review.summary()}"
                )
            else:
                report.actions.append(
                    f"terraform: already at the previous release {report.release}"
                )
            runner.plan()  # the verification: nothing left to change
            left = plan_differences(runner.show_plan())
        finally:
            runner.discard_plan()
        serial, _ = runner.state_summary()
        if left:
            report.differences += [f"terraform: {line}" for line in left]
            report.problems.append(
                "terraform: after the re-apply, a plan of the previous release still shows "
                f"{len(left)} change(s)"
            )
            return
        journal.set_terraform(restored=True, serial_after_rollback=serial)
    except (TerraformError, OSError) as exc:
        report.problems.append(f"terraform: {exc}")
        report.differences.append("terraform: the previous release is not verified")


def _verify_steps(journal: Journal, aws: AwsAccess, report: RollbackReport) -> None:
    """Read every Phase 2 value back and compare it with its journalled `before`."""
    for step in journal.steps:
        kind = KINDS.get(str(step.get("kind")))
        before = step.get("before")
        if kind is None or not isinstance(before, dict):
            continue  # already a problem of its own
        target = dict(step["target"])
        label_ = kind.label(target)
        try:
            current = kind.read(aws, target)
        except ServiceError as exc:
            report.differences.append(f"{label_}: cannot be read back: {exc}")
            continue
        if not same(kind.name, current, before):
            report.differences.append(f"{label_}: {current}, journalled before {before}")


def run_rollback(
    journal: Journal,
    aws: AwsAccess,
    *,
    dry_run: bool,
    say: Say,
    reason: str = "",
    variables: VariableSource | None = None,
) -> RollbackReport:
    """Revert everything the journal records, then verify; the journal says how it
    went (`rollback`: timing, `verified`, differences, the release restored).
    `variables` gives the sensitive terraform variables, asked only before terraform
    needs them."""
    report = RollbackReport(dry_run=dry_run)
    start = time.monotonic()
    if not dry_run:
        journal.set_status("rolling-back", reason)
        attempts = journal.data.get("rollback") or {}
        journal.set_rollback(
            started=now(),
            ended="",
            budget_s=BUDGET_S,
            verified=False,
            result="running",
            attempt=int(attempts.get("attempt", 0)) + 1 if isinstance(attempts, dict) else 1,
        )
    _revert_steps(journal, aws, report, say)
    try:
        _terraform(journal, report, say, variables)
    except Exception as exc:  # a terraform record the journal describes oddly
        report.problems.append(f"terraform: {type(exc).__name__}: {exc}")
    if not dry_run:
        _verify_steps(journal, aws, report)
        if report.differences and not report.problems:
            report.problems.append(
                f"not verified: {len(report.differences)} difference(s) from the state "
                "before the deploy"
            )
        report.verified = not report.problems and not report.differences
    report.duration_s = time.monotonic() - start
    if dry_run:
        return report
    within = report.duration_s <= BUDGET_S
    journal.set_rollback(
        ended=now(),
        duration_s=round(report.duration_s, 3),
        within_budget=within,
        verified=report.verified,
        result=report.result,
        release=report.release,
        differences=list(report.differences),
        problems=list(report.problems),
    )
    timing = (
        f"Rollback: {report.result} in {report.duration_s:.1f} s (budget {BUDGET_S / 60:.0f} min"
        + ("" if within else ", OVER BUDGET")
        + ")"
    )
    say(timing)
    report.actions.append(timing)
    if report.problems:
        journal.set_status("rollback-failed", "; ".join(report.problems))
    else:
        journal.set_status("rolled-back", reason or "rollback finished")
    return report
