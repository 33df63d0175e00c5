"""One deploy run: the four phases, their timings, the journal, the prober, the rollback.

The journal is written before the first change (that is the rollback's registration):
whatever happens after it, a rollback in this process or `readiness rollback
--journal FILE` afterwards can put the journalled values back. A previous journal in the
report folder is never overwritten: archived when its deploy ended clean (or when the
operator asks), otherwise the deploy is refused until it is rolled back.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from deploy_steps import plan_gate, release, services, validation
from deploy_steps.journal import (
    FILE_NAME,
    Journal,
    JournalError,
    JournalLock,
    prepare,
    rollback_command,
)
from deploy_steps.probe import Prober, ProbeTally
from deploy_steps.rollback import RollbackReport, environment_variables, run_rollback
from deploy_steps.terraform_runner import Terraform, TerraformError
from readiness.aws.access import AwsAccess
from readiness.config import ConfigError, Environment
from readiness.context import RunContext

Say = Callable[[str], None]
PHASE_TITLES = {
    "infrastructure": "Phase 1: Infrastructure",
    "services": "Phase 2: Services",
    "security": "Phase 3: Security",
    "validation": "Phase 4: Validation",
}


@final
@dataclass(slots=True)
class PhaseResult:
    name: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_evaluated: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


@final
@dataclass(slots=True)
class PhaseTiming:
    name: str
    started: str
    ended: str = ""
    duration_s: float = 0.0
    budget_s: float = 900.0
    outcome: str = "running"

    @property
    def within_budget(self) -> bool:
        return self.duration_s <= self.budget_s

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.name,
            "title": PHASE_TITLES.get(self.name, self.name),
            "started": self.started,
            "ended": self.ended,
            "duration_s": round(self.duration_s, 3),
            "budget_s": self.budget_s,
            "within_budget": self.within_budget,
            "outcome": self.outcome,
        }


def _iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _resolve(base: Path, given: str) -> Path:
    path = Path(given)
    return path if path.is_absolute() else (base / path).resolve()


@final
class Deployment:
    """The session's deploy; the fixtures call its phases in order."""

    def __init__(
        self,
        ctx: RunContext,
        *,
        report_dir: Path,
        rootdir: Path,
        say: Say,
        keep_on_failure: bool,
        archive_journal: bool = False,
        on_kill: Say = lambda _line: None,
    ) -> None:
        """`archive_journal`: set aside a previous journal that still needs a rollback
        (one whose deploy ended clean is set aside anyway). JournalBlocked otherwise.
        `on_kill` gets the line a reader needs should this process die from here on."""
        if ctx.env is None or ctx.access is None:
            raise ConfigError("the deploy needs an environment and live AWS access")
        self.ctx = ctx
        self.env: Environment = ctx.env
        self.aws: AwsAccess = ctx.access.writer()
        self.report_dir = report_dir
        self.rootdir = rootdir
        self.say = say
        self.keep_on_failure = keep_on_failure
        self.config_dir = ctx.options.config_path.parent
        self.timings: list[PhaseTiming] = []
        self.results: dict[str, PhaseResult] = {}
        self.plan: plan_gate.PlanReview | None = None
        self.rollback_report: RollbackReport | None = None
        self.release_applied: Terraform | None = None
        self.release_hash = ""
        self.started = time.monotonic()
        self.started_at = dt.datetime.now(dt.UTC)
        self.finished = False
        endpoint = ctx.emulator.endpoint if ctx.emulator is not None else self.env.endpoint_url
        # Before the previous journal is looked at: a rollback may be reading it.
        path = report_dir / FILE_NAME
        self.lock = JournalLock(path).acquire(f"a deploy of {self.env.name}")
        try:
            archived = prepare(path, archive_requested=archive_journal)
            self.journal = Journal.create(
                path,
                environment=self.env.name,
                account=self.env.account_id,
                config_path=str(ctx.options.config_path),
                endpoint=endpoint,
                emulated=self.env.emulated,
                destroy_on_rollback=self.env.deploy.destroy_on_rollback,
                previous_journal=str(archived) if archived else None,
            )
        except (JournalError, OSError):
            self.lock.release()
            raise
        if archived is not None:
            say(f"the previous journal is archived as {archived}")
        say(
            f"journal {path}: if this deploy stops without a clean end, roll it back with "
            f"`{rollback_command(path)}`"
        )
        on_kill(f"If this deploy stopped without a clean end: `{rollback_command(path)}`")
        urls = [ctx.resolve_url(u) for u in self.env.health_urls]
        self.prober: Prober | None = (
            Prober(urls, interval_s=self.env.deploy.probe_interval_seconds) if urls else None
        )
        if self.prober is not None:
            self.prober.start()

    @property
    def budget_s(self) -> float:
        return float(self.env.deploy.phase_budget_minutes * 60)

    @contextmanager
    def phase(self, name: str) -> Iterator[PhaseResult]:
        result = PhaseResult(name)
        self.results[name] = result
        timing = PhaseTiming(name=name, started=_iso(), budget_s=self.budget_s)
        self.timings.append(timing)
        start = time.monotonic()
        self.say(f"{PHASE_TITLES[name]}: started")
        try:
            yield result
        except BaseException as exc:
            result.fail(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            timing.duration_s = time.monotonic() - start
            timing.ended = _iso()
            timing.outcome = "ok" if result.ok else "failed"
            self.journal.record_phase({**timing.to_json(), "problems": list(result.problems)})
            self.say(
                f"{PHASE_TITLES[name]}: {timing.outcome} in {timing.duration_s:.1f} s "
                f"(budget {self.budget_s / 60:.0f} min)"
            )

    # -- Phase 1 -----------------------------------------------------------------------

    def _terraform(self) -> Terraform | None:
        deploy = self.env.deploy
        if deploy.terraform_dir is None:
            return None
        work = self.report_dir / "terraform" / self.env.name
        state = work / "terraform.tfstate" if deploy.state_backend == "local" else None
        return Terraform(
            _resolve(self.config_dir, deploy.terraform_dir),
            work,
            binary=deploy.terraform_binary,
            state_path=state,
            progress=self.say,
            timeout_s=self.budget_s,
            sensitive=deploy.secret_vars(),
        )

    def infrastructure(self) -> PhaseResult:
        with self.phase("infrastructure") as result:
            deploy = self.env.deploy
            try:
                runner = self._terraform()
            except TerraformError as exc:
                result.fail(str(exc))
                return result
            if runner is None:
                result.not_evaluated["apply"] = "not-applicable: no deploy.terraform_dir"
                return result
            try:
                runner.write_vars(deploy.public_vars())
                runner.init()
                serial_before, before = runner.state_summary()
                previous = release.capture_previous(
                    runner,
                    release.snapshot_folder(self.report_dir),
                    stateful_types=deploy.stateful_types,
                    allow_stateful_replacement=deploy.allow_stateful_replacement,
                )
                if before:
                    note = previous["configuration_note"]
                    self.say(
                        "previous release: " + (note or release.label(previous["configuration"]))
                    )
                self.release_hash = release.configuration_hash(runner.module_dir)
                self.journal.set_terraform(
                    previous=previous,
                    release={"hash": self.release_hash},
                    module_dir=str(runner.module_dir),
                    work_dir=str(runner.work_dir),
                    state_path=str(runner.state_path) if runner.state_path else None,
                    binary=deploy.terraform_binary,
                    destroy_on_rollback=deploy.destroy_on_rollback,
                    sensitive_vars=runner.sensitive_names,
                    serial_before=serial_before,
                    resources_before=before,
                    created=not before,
                    apply_started=False,
                )
                runner.plan()
                review = plan_gate.review(
                    runner.show_plan(),
                    deploy.stateful_types,
                    allow=deploy.allow_stateful_replacement,
                )
                self.plan = review
                result.details["plan"] = review.to_json()
                self.journal.set_terraform(plan=review.to_json())
                self.say(f"terraform plan: {review.summary()}")
                if review.refused:
                    for item in review.destructive:
                        result.fail(f"plan gate: {item.describe()}")
                    result.details["gate"] = "refused"
                    return result
                result.details["gate"] = "passed"
                self.release_applied = runner
                if review.add + review.change + review.destroy == 0:
                    result.notes.append("terraform: no changes")
                    result.details["outputs"] = runner.outputs()
                    return result
                self.journal.set_terraform(apply_started=True)
                runner.apply_plan()
                serial_after, after = runner.state_summary()
                result.details["outputs"] = runner.outputs()
                self.journal.set_terraform(
                    serial_after=serial_after, resources_after=after, applied=True
                )
                result.notes.append(f"terraform applied: {review.summary()}")
            except (TerraformError, release.ReleaseError, OSError) as exc:
                result.fail(str(exc))
                self.release_applied = None
            finally:
                runner.discard_plan()
        return result

    # -- Phase 2 -----------------------------------------------------------------------

    def services(self) -> PhaseResult:
        with self.phase("services") as result:
            changes = services.planned_changes(self.env.deploy.services, self.env.home_region)
            result.details["changes"] = []
            if not changes:
                result.not_evaluated["all"] = "not-applicable: no deploy.services configured"
            for planned in changes:
                row: dict[str, Any] = {"kind": planned.kind, "resource": planned.label}
                result.details["changes"].append(row)
                kind = services.KINDS[planned.kind]
                try:
                    before = kind.read(self.aws, planned.target)
                    wanted = kind.wanted(before, planned.target)
                    row["before"] = before
                    if wanted is None:
                        row.update(action="unchanged", after=before)
                        continue
                    index = self.journal.plan_step(
                        "services", planned.kind, planned.target, before, wanted
                    )
                    self.say(f"phase 2: {planned.label}: {before} -> {wanted}")
                    kind.write(self.aws, planned.target, wanted)
                    after = kind.read(self.aws, planned.target)
                    self.journal.step_applied(index, after)
                    row.update(action="changed", after=after)
                    if not services.same(planned.kind, after, wanted):
                        row["action"] = "failed"
                        result.fail(f"{planned.label}: {after} after the change, wanted {wanted}")
                except services.ServiceError as exc:
                    row.update(action="failed", error=str(exc))
                    result.fail(str(exc))
        return result

    # -- Phase 3 -----------------------------------------------------------------------

    def security(self) -> PhaseResult:
        with self.phase("security") as result:
            options = self.ctx.options
            rerun = validation.rerun_audit(
                rootdir=self.rootdir,
                report_dir=self.report_dir / "deploy-phase3",
                env_name=self.env.name,
                config_path=options.config_path,
                attach=validation.attach_variables(self.ctx.emulator),
                say=self.say,
                timeout_s=self.budget_s,
            )
            result.details["audit"] = {
                "exit_code": rerun.exit_code,
                "trusted": rerun.trusted,
                "reason": rerun.reason,
                "report_dir": str(rerun.report_dir),
            }
            if not rerun.trusted:
                result.fail(f"the security and monitoring audit gave no verdict: {rerun.reason}")
            result.problems += rerun.failing
            result.warnings += rerun.warnings
            if rerun.exit_code == 2:
                result.ok = False
                if not rerun.failing and rerun.trusted:
                    result.problems.append("the security and monitoring audit says NO-GO")
        return result

    # -- Phase 4 -----------------------------------------------------------------------

    def validation(self) -> PhaseResult:
        with self.phase("validation") as result:
            limit = self.env.rate_limit
            if limit is None:
                result.not_evaluated["rate_limit"] = "not-applicable: no rate_limit configured"
            else:
                rate = validation.probe_rate_limit(self.ctx.resolve_url(limit.url), limit)
                result.details["rate_limit"] = rate.summary()
                self.say(f"phase 4: rate limiter: {rate.summary()}")
                for problem in rate.problems:
                    result.fail(f"rate limiter at {limit.url}: {problem}")
            names = sorted({e.canary for e in self.env.endpoints if e.canary})
            if not names:
                result.not_evaluated["canaries"] = "not-applicable: no endpoint names a canary"
                return result
            try:
                green, problems = validation.canaries_green(
                    self.aws,
                    names,
                    within_minutes=self.env.thresholds.canary_green_within_minutes,
                    since=self.started,
                    poll_s=self.env.deploy.canary_poll_seconds,
                    say=self.say,
                    not_before=None if self.env.emulated else self.started_at,
                )
            except validation.CanariesUnavailable as exc:
                result.not_evaluated["canaries"] = f"not-evaluated: {exc}"
                return result
            result.details["canaries"] = green + problems
            for problem in problems:
                result.fail(problem)
        return result

    # -- the end -------------------------------------------------------------------------

    def stop_prober(self) -> ProbeTally | None:
        return self.prober.stop() if self.prober is not None else None

    def finish(self, succeeded: bool, reason: str) -> RollbackReport | None:
        """Mark the deploy done, or roll it back (unless kept for inspection)."""
        if self.finished:
            return self.rollback_report
        self.finished = True
        self.stop_prober()
        if succeeded:
            self._record_release()
            self.journal.set_status("deployed", "all validations passed")
            self.lock.release()
            return None
        command = rollback_command(self.journal.path)
        if self.keep_on_failure:
            self.journal.set_status("kept", f"{reason} (--no-rollback)")
            self.lock.release()
            self.say(
                f"deploy failed ({reason}); --no-rollback keeps it for inspection; "
                f"roll it back with `{command}`"
            )
            return None
        self.journal.set_status("failed", reason)
        self.say(f"deploy failed ({reason}): rolling back")
        try:
            self.rollback_report = run_rollback(
                self.journal,
                self.aws,
                dry_run=False,
                say=self.say,
                reason=reason,
                variables=environment_variables(self.env),
            )
        finally:
            self.lock.release()
        if self.rollback_report.problems:
            self.say(f"the rollback did not finish; finish it with `{command}`")
        return self.rollback_report

    def _record_release(self) -> None:
        """The applied configuration becomes the last successful release: the one the
        next deploy's rollback re-applies."""
        runner = self.release_applied
        if runner is None:
            return
        try:
            record = release.record_release(
                runner.work_dir,
                runner.module_dir,
                variables=self.env.deploy.public_vars(),
                sensitive_names=runner.sensitive_names,
                journal=self.journal.path,
                expected_hash=self.release_hash,
            )
        except (release.ReleaseError, OSError) as exc:
            self.say(f"WARNING: the release is not recorded for the next rollback: {exc}")
            self.journal.set_terraform(release_recorded=False)
            return
        self.journal.set_terraform(release_recorded=True)
        self.say(f"release recorded for the next rollback: {release.label(record)}")

    def timing_rows(self) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.timings]
