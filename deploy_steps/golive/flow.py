"""`readiness go-live`: the flowchart end to end, one stage after the other.

preflight → audit → decision → deploy (phases 1-4) → validations → success or rollback
→ optional monitoring. Each gate stage is its own pytest session with its own report
folder under out/go-live/<UTC stamp>/<stage>/; on the embedded emulator all stages share
one emulator, so the deploy's changes are what the validations see.

Exit status: 0 deployed and validated; 1 deployed with accepted risks (or warnings from
the validations or monitoring); 2 stopped, refused, interrupted or rolled back. Only
the explicit success path returns 0: any unexpected error is 2. The monitoring is the
engine `readiness watch` runs too (`readiness.postdeploy.watch`, deploy_steps/golive/
monitoring.py): the same decision table, notifications and incident record.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import signal
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, final

from deploy_steps.gate import GateResult
from deploy_steps.golive import decision as decisions
from deploy_steps.golive import incident, monitoring, resume, timeline
from deploy_steps.golive.decision import Decision, Finding
from deploy_steps.golive.incident import RollbackResult
from deploy_steps.golive.resume import RunState, utcnow
from deploy_steps.golive.stages import StageRunner, SubprocessRunner, read_verdict
from readiness.config import ConfigError, Environment, load_config
from readiness.postdeploy.decide import Action
from readiness.postdeploy.watch import RoundRecord, RoundResult, Watch, WatchOptions
from reports.files import make_dirs, write_atomic, write_json

DEPLOYED, WITH_RISKS, STOPPED = 0, 1, 2
FAULTS = ("rate-limiter-off", "app-down")
JOURNAL = "deploy-journal.json"


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: stop where we are, keep the state for --resume."""


class Stop(Exception):
    """The go-live ends here with exit 2 (the state says why)."""


@final
@dataclass(slots=True)
class GoLiveOptions:
    env: str | None = None
    config: Path = Path("readiness.toml")
    out: Path = Path("out")
    accept_risks: bool = False
    accepted_by: str | None = None
    monitor_minutes: float | None = None
    monitor_interval_minutes: float | None = None
    resume: bool = False
    stop_after: str | None = None
    simulate_failure: str | None = None
    interactive: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stdout)


@contextmanager
def _signals() -> Iterator[list[int]]:
    """Turn SIGTERM into an interrupt as well; remember that one happened."""
    hits: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        hits.append(signum)
        raise KeyboardInterrupt

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, handler)
    try:
        yield hits
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@final
class GoLive:
    """One go-live run; `run()` returns its exit status."""

    def __init__(self, options: GoLiveOptions, runner: StageRunner | None = None) -> None:
        self.o = options
        self.runner: StageRunner = runner or SubprocessRunner()
        self.out = options.stream
        self.env: Environment | None = None
        self.state: RunState | None = None
        self.run_dir = Path()
        self.environ: dict[str, str] = {}
        self.hits: list[int] = []
        self.app_url = ""
        self.monitor_cause = ""

    # -- output ----------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def banner(self, text: str) -> None:
        self.say("")
        self.say(f"==== go-live: {text} " + "=" * max(0, 60 - len(text)))

    # -- state -----------------------------------------------------------------------

    def save(self) -> None:
        assert self.state is not None
        resume.save(self.state, self.run_dir)
        timeline.write(self.state, self.run_dir)

    def begin(self, name: str) -> resume.StageRecord:
        assert self.state is not None
        record = self.state.stage(name)
        record.status = "running"
        record.started_at = utcnow().isoformat()
        record.finished_at = ""
        record.reused_from = ""
        record.report_dir = name
        self.save()
        self.banner(f"{name} ({timeline.TITLES[name]})")
        return record

    def end(self, record: resume.StageRecord, code: int, outcome: str, detail: str = "") -> None:
        finished = utcnow()
        record.finished_at = finished.isoformat()
        record.duration_s = (
            finished - dt.datetime.fromisoformat(record.started_at)
        ).total_seconds()
        record.exit_code = code
        record.outcome = outcome
        record.detail = detail
        record.status = "done"
        self.save()

    def finish(self, code: int, result: str) -> int:
        assert self.state is not None
        self.state.finished = True
        self.state.exit_code = code
        self.state.result = result
        self.save()
        self.say("")
        self.say(timeline.terminal(self.state))
        self.say("")
        self.say(f"GO-LIVE RESULT: {result} (exit {code})")
        self.say(f"timeline  {self.run_dir / 'timeline.html'} · {self.run_dir / 'timeline.json'}")
        if self.state.incident:
            self.say(f"incident  {self.state.incident}")
        return code

    # -- stages ----------------------------------------------------------------------

    def gate(self, name: str, phase: str, extra: list[str] | None = None) -> GateResult:
        assert self.env is not None
        record = self.begin(name)
        result = self.runner.gate(
            phase, self.env.name, self.run_dir / name, list(extra or []), self.environ
        )
        if self.hits:
            raise Interrupted
        label = {0: "GO", 1: "CONDITIONAL GO", 2: "NO-GO"}[result.exit_code]
        verdict = result.verdict or {}
        reasons = [str(r) for r in verdict.get("reasons", []) or []]
        detail = result.reason or "; ".join(reasons[:3]) + (" ..." if len(reasons) > 3 else "")
        record.trusted = result.trusted
        self.end(record, result.exit_code, label, detail)
        return result

    def kept(self, name: str, kept: set[str], previous: RunState | None) -> bool:
        if name not in kept or previous is None:
            return False
        record = previous.stages[name]
        assert self.state is not None
        self.state.stages[name] = record
        record.status = "reused"
        record.reused_from = record.finished_at
        self.say(f"reusing {name}: {record.outcome} (finished {record.finished_at[:19]} UTC)")
        return True

    def verdict_of(self, name: str) -> tuple[str, dict[str, Any] | None, bool, str]:
        assert self.state is not None
        record = self.state.stages[name]
        verdict = read_verdict(self.run_dir / record.report_dir)
        trusted = record.trusted and verdict is not None
        return name, verdict, trusted, record.detail

    def pause_here(self, name: str) -> None:
        if self.o.stop_after == name:
            self.say(f"stopping after {name} as asked (--stop-after); continue with --resume")
            raise Interrupted

    def ask(self, pending: Decision) -> str | None:
        """CONDITIONAL GO in a terminal: y/N, never when stdin is not a TTY."""
        if not (self.o.interactive and sys.stdin.isatty()):
            return None
        for line in decisions.describe(pending):
            self.say(line)
        self.out.write(f"Accept these {len(pending.open_risks)} risk(s) and deploy? [y/N] ")
        self.out.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            return None
        return self.o.accepted_by or getpass.getuser()

    def decide(self) -> Decision:
        assert self.state is not None
        record = self.begin("decision")
        accept_by = self.o.accepted_by if self.o.accept_risks else None
        decision = decisions.decide(
            [self.verdict_of("preflight"), self.verdict_of("audit")], accept_by, self.ask
        )
        for line in decisions.describe(decision):
            self.say(line)
        self.state.decision = decision.to_json()
        write_json(self.run_dir / "decision" / "decision.json", decision.to_json())
        write_atomic(self.run_dir / "decision" / "decision.md", decision_record(decision))
        code = 0 if decision.verdict == "GO" else (1 if decision.proceeds else 2)
        self.end(record, code, decision.outcome, decision.why)
        return decision

    def inject(self, fault: str) -> None:
        """Make a phase-4 validation fail on the embedded emulator (demos and tests)."""
        assert self.env is not None
        if not self.env.emulated or not self.app_url:
            raise Stop(
                f"--simulate-failure works only on the embedded emulator, not {self.env.name}"
            )
        payload = {"rate-limiter-off": {"rate_limit": None}, "app-down": {"healthy": False}}[fault]
        request = urllib.request.Request(
            f"{self.app_url}/_control",
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        self.say(f"simulated failure on the emulator's demo application: {fault}")

    def rollback(self, trigger: str, failing: list[Finding]) -> None:
        assert self.state is not None and self.env is not None
        result = self.run_rollback()
        path, notified = incident.write(
            self.o.out / "incidents",
            self.state,
            self.env,
            trigger,
            failing,
            result,
            self.run_dir,
            self.environ.get("READINESS_EMULATOR_ENDPOINT") or self.env.endpoint_url,
        )
        self.state.incident = str(path)
        self.save()
        self.say(f"rollback: {result.summary}")
        for n in notified:
            self.say(f"notify {n.channel}: {'sent' if n.sent else 'NOT sent'} ({n.detail})")

    def run_rollback(self) -> RollbackResult:
        """The rollback stage: `readiness rollback --journal` of the deploy's journal."""
        assert self.state is not None
        record = self.begin("rollback")
        journal = self.run_dir / "deploy" / JOURNAL
        if not journal.is_file():
            result = RollbackResult(
                False, None, f"no deploy journal at {journal}: the deploy changed nothing"
            )
        else:
            done = self.runner.rollback(journal, self.environ)
            tail = "\n".join(done.output.strip().splitlines()[-30:])
            if done.exit_code == 0:
                summary = "restored (readiness rollback exit 0)"
            else:
                summary = (
                    f"FAILED (readiness rollback exit {done.exit_code}): finish it by hand "
                    f"with `readiness rollback --journal {journal}`"
                )
            result = RollbackResult(True, done.exit_code, summary, tail, str(journal))
        self.end(
            record,
            0 if result.restored or not result.attempted else 2,
            "restored"
            if result.restored
            else ("nothing to roll back" if not result.attempted else "FAILED"),
            result.summary,
        )
        self.state.stages["rollback"].report_dir = ""
        self.save()
        return result

    def phases_of_deploy(self) -> None:
        """Copy phases 1-4's timings from the deploy journal into the timeline."""
        assert self.state is not None
        try:
            journal = json.loads((self.run_dir / "deploy" / JOURNAL).read_text(encoding="utf-8"))
            phases = journal.get("phases", [])
        except (OSError, ValueError, AttributeError):
            return
        parts = []
        for number, phase in enumerate(p for p in phases if isinstance(p, dict)):
            parts.append(
                {
                    "name": str(phase.get("title") or f"Phase {number + 1}"),
                    "started_at": str(phase.get("started", "")),
                    "duration_s": float(phase.get("duration_s") or 0.0),
                    "plan_minutes": float(phase.get("budget_s") or 900.0) / 60,
                    "outcome": str(phase.get("outcome", "")),
                }
            )
        self.state.stages["deploy"].parts = parts
        self.save()

    def failing(self, name: str) -> list[Finding]:
        _, verdict, _, _ = self.verdict_of(name)
        return [f for f in decisions.findings(name, verdict) if f.outcome in decisions.OPEN]

    # -- the flow --------------------------------------------------------------------

    def run(self) -> int:
        try:
            with _signals() as hits:
                self.hits = hits
                return self._run()
        except (Interrupted, KeyboardInterrupt):
            return self._interrupted()
        except Stop as exc:
            self.say(f"go-live: {exc}")
            if self.state is None:
                return STOPPED
            return self.finish(STOPPED, f"STOPPED: {exc}")
        except Exception as exc:  # never exit 0 by accident
            self.say(f"go-live: NO-GO (exit 2): unexpected {type(exc).__name__}: {exc}")
            if self.state is not None:
                try:
                    return self.finish(STOPPED, f"FAILED: {type(exc).__name__}: {exc}")
                except Exception:
                    return STOPPED
            return STOPPED

    def _interrupted(self) -> int:
        self.say("")
        if self.state is None:
            self.say("go-live interrupted before it started (exit 2)")
            return STOPPED
        running = [r.name for r in self.state.stages.values() if r.status == "running"]
        for name in running:
            self.state.stages[name].detail = "interrupted"
        self.save()
        where = f"during {running[0]}" if running else "between stages"
        self.say(timeline.terminal(self.state))
        self.say(
            f"go-live interrupted {where} (exit 2). Continue with: "
            f"readiness go-live --env {self.state.environment} --resume"
        )
        return STOPPED

    def _setup(self) -> tuple[RunState | None, set[str]]:
        try:
            config, _ = load_config(self.o.config)
            self.env = env = config.environment(self.o.env)
        except ConfigError as exc:
            raise Stop(f"configuration: {exc}") from None
        root = self.o.out / "go-live"
        previous: RunState | None = None
        kept: set[str] = set()
        if self.o.resume:
            try:
                self.run_dir = resume.latest_unfinished(root, env.name)
                previous = resume.load(self.run_dir)
            except resume.ResumeError as exc:
                raise Stop(str(exc)) from None
            kept, why = resume.reusable(previous, utcnow(), env.golive.audit_max_age_minutes)
            self.say(f"go-live: resuming {self.run_dir.name}: {why}")
            self.state = RunState(
                environment=env.name,
                stamp=previous.stamp,
                started_at=previous.started_at,
                emulated=env.emulated,
                resumed=[*previous.resumed, utcnow().isoformat()],
            )
        else:
            now = utcnow()
            self.run_dir = root / resume.stamp(now)
            while self.run_dir.exists():
                now += dt.timedelta(seconds=1)
                self.run_dir = root / resume.stamp(now)
            self.state = RunState(
                environment=env.name,
                stamp=self.run_dir.name,
                started_at=now.isoformat(),
                emulated=env.emulated,
            )
        self.state.options = {
            "accept_risks": self.o.accept_risks,
            "accepted_by": self.o.accepted_by,
            "monitor_minutes": self.o.monitor_minutes,
            "stop_after": self.o.stop_after,
            "simulate_failure": self.o.simulate_failure,
        }
        make_dirs(self.run_dir)
        self.save()
        return previous, kept

    def _run(self) -> int:
        previous, kept = self._setup()
        assert self.env is not None and self.state is not None
        env = self.env
        self.say(
            f"go-live: {env.name} · account {env.account_id} · {', '.join(env.regions)}"
            + (" · LOCAL EMULATOR, not a real account" if env.emulated else " · REAL ACCOUNT")
        )
        self.say(f"go-live: folder {self.run_dir}")
        if env.emulated:
            from readiness.emulator import EmulatorProcess

            seed = env.emulator.seed if env.emulator else "demo"
            with EmulatorProcess.start(seed, regions=tuple(env.regions)) as emulator:
                self.environ = emulator.attach_environment()
                self.app_url = emulator.app_url
                self.say(f"go-live: one emulator for every stage at {emulator.endpoint}")
                return self._stages(previous, kept)
        return self._stages(previous, kept)

    def _stages(self, previous: RunState | None, kept: set[str]) -> int:
        assert self.env is not None and self.state is not None
        state = self.state

        if not self.kept("preflight", kept, previous):
            pre = self.gate("preflight", "preflight")
            if pre.exit_code == STOPPED:
                decision = decisions.decide([self.verdict_of("preflight")])
                for line in decisions.describe(decision):
                    self.say(line)
                return self.finish(
                    STOPPED, "STOPPED at preflight: fix the credentials or the quick health check"
                )
        self.pause_here("preflight")

        if not self.kept("audit", kept, previous):
            self.gate("audit", "audit")
        self.pause_here("audit")

        if self.kept("decision", kept, previous):
            assert previous is not None
            state.decision = previous.decision
            with_risks = state.stages["decision"].exit_code == 1
        else:
            decision = self.decide()
            if not decision.proceeds:
                return self.finish(STOPPED, f"STOPPED: {decision.why}")
            with_risks = decision.with_risks
        self.pause_here("decision")

        worst = WITH_RISKS if with_risks else DEPLOYED
        if not self.kept("deploy", kept, previous):
            missing = self.runner.cannot_rollback()
            if missing:
                record = self.begin("deploy")
                self.end(record, STOPPED, "refused", missing)
                self.say(f"deploy: refused: {missing}")
                return self.finish(STOPPED, f"STOPPED before deploying: {missing}")
            if self.o.simulate_failure:
                self.inject(self.o.simulate_failure)
            dep = self.gate("deploy", "deploy")
            self.phases_of_deploy()
            if dep.exit_code == STOPPED:
                why = state.stages["deploy"].detail or "the deploy stage was NO-GO"
                self.rollback(f"deploy failed: {why}", self.failing("deploy"))
                return self.finish(STOPPED, "ROLLED BACK: the deploy failed")
            worst = max(worst, dep.exit_code)
        else:
            worst = max(worst, state.stages["deploy"].exit_code or 0)
        self.pause_here("deploy")

        if not self.kept("validations", kept, previous):
            val = self.gate("validations", "postdeploy")
            if val.exit_code == STOPPED:
                why = state.stages["validations"].detail or "a validation failed"
                self.rollback(f"validations failed: {why}", self.failing("validations"))
                return self.finish(STOPPED, "ROLLED BACK: the validations failed")
            worst = max(worst, val.exit_code)
        else:
            worst = max(worst, state.stages["validations"].exit_code or 0)
        self.pause_here("validations")

        if self.o.monitor_minutes:
            monitored = self.monitor(self.o.monitor_minutes)
            if monitored == STOPPED:
                return self.finish(STOPPED, f"ROLLED BACK: {self.monitor_cause} while monitoring")
            worst = max(worst, monitored)

        if worst == DEPLOYED:
            return self.finish(DEPLOYED, "DEPLOYED and validated")
        return self.finish(WITH_RISKS, "DEPLOYED with accepted risks or warnings (see the record)")

    def monitor(self, minutes: float) -> int:
        """Post-deploy rounds for `minutes` under the monitoring engine's decision table."""
        assert self.env is not None and self.state is not None
        env, state = self.env, self.state
        interval = self.o.monitor_interval_minutes or float(env.golive.monitor_interval_minutes)
        window = "2h" if minutes <= 120 else "24h"
        stage = self.begin("monitoring")
        journal = self.run_dir / "deploy" / JOURNAL
        label = f"readiness rollback --journal {journal}"
        options = WatchOptions(
            environment=env.name,
            report_dir=self.run_dir / "monitoring",
            interval_s=interval * 60,
            for_s=minutes * 60,
            rollback_command=monitoring.journal_rollback_argv(journal),
            limits=monitoring.limits_of(env),
        )

        def run_round(number: int, report_dir: Path) -> RoundResult:
            stage.report_dir = f"monitoring/{report_dir.name}"
            self.say(f"monitoring round {number} of {options.rounds} (window {window})")
            result = self.runner.gate(
                "postdeploy", env.name, report_dir, [f"--window={window}"], self.environ
            )
            if self.hits:
                raise KeyboardInterrupt
            return RoundResult(result.exit_code, result.verdict, result.reason, report_dir)

        def rollback(record: RoundRecord) -> dict[str, Any]:
            short = {"critical-failed": "critical", "critical-blind-persists": "critical unread"}
            what = short.get(record.rule, "warning unresolved")
            self.end(stage, STOPPED, f"{what} in round {record.number}", record.headline)
            result = self.run_rollback()
            if not result.attempted:
                return {"command": [], "exit_code": None, "error": result.summary}
            return {
                "command": list(options.rollback_command),
                "exit_code": result.exit_code,
                "output": result.output_tail,
                "summary": result.summary,
                "journal": str(journal),
            }

        def write_incident(record: RoundRecord) -> str:
            path = monitoring.write_incident(
                self.o.out / "incidents",
                env,
                env.emulated,
                f"readiness go-live {state.stamp} (`{self.run_dir}`)",
                watch,
                record,
                label,
            )
            state.incident = str(path)
            self.save()
            return str(path)

        def on_round(record: RoundRecord) -> None:
            self.say(f"monitoring round {record.number}: {record.action.value}: {record.headline}")
            for d in record.notifications:
                self.say(f"notify {d.channel} {d.target}: {'sent' if d.ok else d.error}")

        endpoint = self.environ.get("READINESS_EMULATOR_ENDPOINT") or env.endpoint_url
        watch = Watch(
            options,
            run_round,
            monitoring.notifier_for(env, endpoint),
            on_round,
            rollback=rollback,
            incident=write_incident,
            progress=lambda line: self.say(f"monitoring: {line}"),
            rollback_label=label,
        )
        watch.run()
        if self.hits or watch.interrupted:
            raise Interrupted
        rolled_back = watch.rolled_back
        if rolled_back is not None:
            self.monitor_cause = incident.monitoring_trigger(rolled_back)
            done = rolled_back.rollback or {}
            self.say(f"rollback: {done.get('summary') or done.get('error')}")
            return STOPPED
        stage.report_dir = "monitoring"
        uneasy = [r for r in watch.rounds if r.action is not Action.CONTINUE or r.exit_code]
        worst = WITH_RISKS if uneasy else DEPLOYED
        self.end(
            stage,
            worst,
            "PRODUCTION STABLE" if worst == DEPLOYED else "warnings (rollback prepared)",
            "; ".join(f"round {r.number}: {r.headline}" for r in uneasy)
            or f"{len(watch.rounds)} round(s) all clear",
        )
        return worst


def decision_record(decision: Decision) -> str:
    """decision/decision.md: the verdict, the open risks and who accepted them."""
    lines = [f"# Go-live decision: {decision.verdict} → {decision.outcome}", "", decision.why, ""]
    if decision.accepted is not None:
        lines += [
            f"Accepted by **{decision.accepted.by}** ({decision.accepted.how}) at "
            f"{utcnow().isoformat(timespec='seconds')}.",
            "",
        ]
    for title, items in (
        ("Blocking failures", decision.blocking),
        ("Open risks", decision.open_risks),
        ("Covered by waivers", decision.waived),
    ):
        if not items:
            continue
        lines += [f"## {title}", ""]
        for f in items:
            lines.append(f"- `{f.check_id}` {f.resource} ({f.severity} {f.outcome}): {f.message}")
            if f.outcome == "waived":
                lines.append(f"  - waiver owner {f.waiver_owner}, expires {f.waiver_expires}")
            elif f.remediation:
                lines.append(f"  - fix: {f.remediation}")
        lines.append("")
    for problem in decision.problems:
        lines.append(f"- problem: {problem}")
    return "\n".join(lines) + "\n"


def go_live(options: GoLiveOptions, runner: StageRunner | None = None) -> int:
    return GoLive(options, runner).run()


__all__ = [
    "FAULTS",
    "GoLive",
    "GoLiveOptions",
    "go_live",
]
