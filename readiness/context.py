"""One run's context: configuration, target, AWS access, emulator and snapshot.

Prepared once on the controller (or the single process) and handed to xdist workers
as plain data: the snapshot travels as a file, so every worker sees the same resources
and collects the same tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, final

from readiness.aws.access import AwsAccess, credential_operations
from readiness.aws.credentials import ProfileError, choose_credentials
from readiness.aws.guard import Guard
from readiness.aws.ledger import Ledger
from readiness.config import (
    APP_PLACEHOLDER,
    EMULATOR_ACCOUNT,
    ConfigError,
    Environment,
    ReadinessConfig,
    load_config,
)
from readiness.emulator import handoff
from readiness.emulator.process import AttachedEmulator, EmulatorError, EmulatorProcess
from readiness.evidence import target_kind
from readiness.files import write_json
from readiness.inventory.collectors import ALL as ALL_COLLECTORS
from readiness.inventory.model import Snapshot, SnapshotError, Target
from readiness.inventory.runner import select, take_snapshot

WINDOWS = {"2h": 2, "24h": 24}


@final
@dataclass
class RunOptions:
    config_path: Path
    env_name: str | None
    out_dir: Path
    phases: list[str]
    window: str = "2h"
    snapshot_path: Path | None = None
    read_only: bool = True
    profile: str | None = None
    """`--profile`: the AWS profile to use, before READINESS_PROFILE and the configured one."""


@final
@dataclass
class RunContext:
    options: RunOptions
    config: ReadinessConfig | None = None
    env: Environment | None = None
    target: Target | None = None
    snapshot: Snapshot | None = None
    access: AwsAccess | None = None
    emulator: EmulatorProcess | AttachedEmulator | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the reader should know that does not change the verdict."""
    fatal: str | None = None
    secrets: list[str] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)
    guard: Guard | None = None  # the run's guard, installed for the whole process

    @property
    def window_hours(self) -> int:
        return WINDOWS.get(self.options.window, 2)

    @property
    def inventory_path(self) -> Path:
        return self.options.out_dir / "inventory.json"

    def fail(self, message: str) -> None:
        """A problem that leaves nothing to evaluate: the run is NO-GO with this message."""
        if self.fatal is None:
            self.fatal = message
        self.problems.append(message)

    def resolve_url(self, url: str) -> str:
        """Fill in the demo application's address for `{app}` URLs."""
        if APP_PLACEHOLDER in url:
            app = self.target.app_url if self.target else None
            if not app:
                raise ConfigError(f"{url}: {APP_PLACEHOLDER} needs the embedded emulator")
            return url.replace(APP_PLACEHOLDER, app)
        return url

    # -- controller ------------------------------------------------------------------

    def load_configuration(self) -> bool:
        try:
            self.config, used = load_config(self.options.config_path)
            self.env = self.config.environment(self.options.env_name)
        except ConfigError as exc:
            self.secrets += list(exc.secrets)  # a validation error may quote one
            self.fail(str(exc))
            return False
        self.secrets += [v for v in used.values() if v]
        if self.env.notify.webhook_url:
            self.secrets.append(self.env.notify.webhook_url)
        if self.options.window not in WINDOWS:
            self.fail(f"--window {self.options.window!r}: use one of {', '.join(WINDOWS)}")
            return False
        return True

    def start_emulator(self, log_dir: Path | None = None) -> None:
        """Start the embedded AWS if the environment has one (non-blocking callers first)."""
        env = self.env
        if env is None or env.emulator is None or self.options.snapshot_path is not None:
            return
        attached = AttachedEmulator.from_environment()
        if attached is not None:
            self.emulator = attached
            return
        try:
            pending = handoff.pending_path()
            if pending is not None:
                handed = handoff.await_handover(pending, env.emulator.seed, tuple(env.regions))
                if handed is not None:
                    self.emulator = handed
                    return
            self.emulator = EmulatorProcess.start(
                env.emulator.seed, log_dir=log_dir, regions=tuple(env.regions)
            )
        except EmulatorError as exc:
            self.fail(f"the embedded emulator did not start: {exc}")

    def connect(self) -> None:
        env = self.env
        assert env is not None
        if self.options.snapshot_path is not None:
            self._replay(self.options.snapshot_path)
            return
        endpoint = self.emulator.endpoint if self.emulator else env.endpoint_url
        self.target = Target(
            environment=env.name,
            account=env.account_id,
            regions=tuple(env.regions),
            endpoint=endpoint,
            emulated=env.emulated,
            seed=self.emulator.seed if self.emulator else None,
            app_url=self.emulator.app_url if self.emulator else None,
        )
        if env.emulated and env.account_id != EMULATOR_ACCOUNT:
            self.problems.append(
                f"environment {env.name!r} uses the emulator but names account {env.account_id}"
                f" (the emulator is {EMULATOR_ACCOUNT})"
            )
        try:
            source = choose_credentials(env, self.options.profile)
        except ProfileError as exc:  # an explicit profile that is not defined
            self.fail(str(exc))
            return
        if source.note:
            self.notes.append(source.note)
        if self.guard is not None:  # before the session: it may assume a role at once
            self.guard.allow_credentials(credential_operations(env, source))
        try:
            self.access = AwsAccess(
                env,
                endpoint_url=endpoint,
                read_only=self.options.read_only,
                ledger=self.ledger,
                guard=self.guard,
                credentials=source,
            )
            credentials = self.access.session.get_credentials()
            if credentials is None and not env.emulated:
                raise LookupError(f"none found ({source.describe()})")
            if credentials is not None and not env.emulated:
                frozen = credentials.get_frozen_credentials()  # assumes the role, if any
                self.secrets += [s for s in (frozen.secret_key, frozen.token) if s]
        except Exception as exc:  # profile not found, SSO expired, role refused, ...
            self._no_credentials(env, exc)

    def _no_credentials(self, env: Environment, exc: Exception) -> None:
        """The credential check reads this gap: not-evaluated reads, and NO-GO."""
        assert self.target is not None
        self.access = None
        self.snapshot = Snapshot(target=self.target, taken_at="")
        self.snapshot.put_gap("sts.identity", "global", f"credentials: {exc}")
        self.problems.append(f"AWS credentials for {env.name!r} cannot be loaded: {exc}")

    def _replay(self, path: Path) -> None:
        try:
            self.snapshot = Snapshot.load(path)
        except SnapshotError as exc:
            self.fail(str(exc))
            return
        self.target = self.snapshot.target
        assert self.env is not None
        if self.target.environment != self.env.name:
            self.fail(
                f"{path}: the snapshot is of environment {self.target.environment!r}, "
                f"not {self.env.name!r} (pass --env {self.target.environment})"
            )

    def take_inventory(self) -> None:
        if self.snapshot is not None or self.access is None or self.env is None:
            return
        assert self.target is not None
        collectors = select(ALL_COLLECTORS, self.options.phases)
        result = take_snapshot(
            self.access, self.env, self.target, collectors, window_hours=self.window_hours
        )
        self.snapshot = result.snapshot
        self.problems += result.problems

    def save_inventory(self) -> None:
        if self.snapshot is None or self.options.snapshot_path is not None:
            return
        write_json(self.inventory_path, self.snapshot.to_json())

    def write_ledger(self) -> None:
        """api-calls.json and iam-policy.json: when the run had live access, or when
        anything tried to call AWS (a replay allows no call: the attempts are listed)."""
        if self.access is None and not self.ledger.calls:
            return
        write_json(self.options.out_dir / "api-calls.json", self.ledger.summary())
        write_json(self.options.out_dir / "iam-policy.json", self.ledger.iam_policy())

    def stop(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    # -- workers ---------------------------------------------------------------------

    def for_worker(self) -> dict[str, Any]:
        return {
            "snapshot": str(self.inventory_path) if self.snapshot is not None else None,
            "replayed": str(self.options.snapshot_path) if self.options.snapshot_path else None,
            "problems": list(self.problems),
            "fatal": self.fatal,
            "secrets": list(self.secrets),
        }

    def from_controller(self, data: dict[str, Any]) -> None:
        self.problems = list(data.get("problems", []))
        self.fatal = data.get("fatal")
        self.secrets = list(data.get("secrets", []))
        path = data.get("replayed") or data.get("snapshot")
        if self.fatal is None:
            self.load_configuration()
        if path and self.fatal is None:
            try:
                self.snapshot = Snapshot.load(Path(path))
                self.target = self.snapshot.target
            except SnapshotError as exc:
                self.fail(str(exc))


def describe(target: Target | None) -> str:
    if target is None:
        return "no target"
    kind = target_kind(target.endpoint, target.emulated)
    if target.emulated:
        kind = f"{kind}, seed {target.seed}"
    where = f" at {target.endpoint}" if target.endpoint else ""
    return (
        f"{target.environment} ({kind}) · account {target.account} · "
        f"{', '.join(target.regions)}{where}"
    )
