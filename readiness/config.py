"""`readiness.toml`: environments, what the quick health check expects, thresholds.

Validated with pydantic; every error names the file, the key and the problem. The
seed's numbers are the defaults (500 USD a month, canaries > 95 % over 2 h and > 99 %
over 24 h, green within 15 minutes of a deploy).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

ACCOUNT_ID = re.compile(r"^\d{12}$")
SECRET_MARK = "(secret)"
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
APP_PLACEHOLDER = "{app}"
EMULATOR_ACCOUNT = "123456789012"


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why.

    `secrets`: the ${VAR} values read before the problem was found, so whoever prints
    the message can mask them (a validation error may quote one)."""

    def __init__(self, message: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.secrets = secrets


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Name = Annotated[str, Field(min_length=1)]


class Thresholds(_Strict):
    monthly_cost_limit_usd: float = Field(default=500.0, gt=0)
    canary_success_2h_percent: float = Field(default=95.0, ge=0, le=100)
    canary_success_24h_percent: float = Field(default=99.0, ge=0, le=100)
    canary_green_within_minutes: int = Field(default=15, ge=1, le=240)
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    log_retention_days: int = Field(default=30, ge=1)
    access_key_max_age_days: int = Field(default=90, ge=1)
    lambda_error_rate_percent: float = Field(default=1.0, ge=0, le=100)
    min_ecs_desired_count: int = Field(default=2, ge=1)
    sqs_max_receive_count: int = Field(default=10, ge=1, le=1000)
    min_password_length: int = Field(default=14, ge=6, le=128)
    min_canary_datapoints: int = Field(default=3, ge=1)


class Expectations(_Strict):
    """What the quick health check expects to find (seed step 2)."""

    ecs_clusters: list[Name] = []
    sqs_queues: list[Name] = []
    dynamodb_tables: list[Name] = []
    budgets: list[Name] = []
    canaries: list[Name] = []
    alarms: list[Name] = []
    ttl: dict[str, str] = {}
    """Tables that must expire items, with their TTL attribute."""


class Scope(_Strict):
    """Judge only resources that carry all these tags (empty: every resource)."""

    tags: dict[str, str] = {}
    cost_allocation_tags: list[Name] = []
    """Tag keys every resource in scope must carry for cost allocation."""


class Emulator(_Strict):
    seed: Literal["demo", "demo-risky", "demo-broken", "empty"] = "demo"


class RateLimit(_Strict):
    url: Name
    limit_per_second: int = Field(default=10, ge=1, le=1000)
    burst_requests: int = Field(default=40, ge=2, le=500)
    normal_requests: int = Field(default=5, ge=1, le=100)


class Endpoint(_Strict):
    """A public entry point: its health URL and the canary that watches it."""

    name: Name
    url: Name
    canary: str | None = None


class ServiceChanges(_Strict):
    """Phase 2 of the deploy: the changes the seed's scripts make."""

    performance_insights: list[Name] = []
    performance_insights_retention_days: int = 7
    circuit_breaker: list[Name] = []
    ttl: dict[str, str] = {}

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value in (7, 731) or (value % 31 == 0 and 31 <= value <= 713):
            return value
        raise ValueError("must be 7, a multiple of 31 up to 713, or 731 (Performance Insights)")

    @field_validator("circuit_breaker")
    @classmethod
    def _service_refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            if ref.count("/") != 1:
                raise ValueError(f"{ref!r} must be 'cluster/service'")
        return value


STATEFUL_TYPES = (
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_rds_global_cluster",
    "aws_docdb_cluster",
    "aws_neptune_cluster",
    "aws_redshift_cluster",
    "aws_dynamodb_table",
    "aws_dynamodb_global_table",
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_efs_file_system",
    "aws_fsx_*",
    "aws_sqs_queue",
    "aws_elasticache_*",
    "aws_memorydb_cluster",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_kinesis_stream",
    "aws_msk_cluster",
    "aws_ebs_volume",
    "aws_backup_vault",
    "aws_secretsmanager_secret",
    "aws_ecr_repository",
    "aws_cloudwatch_log_group",
)


class Deploy(_Strict):
    """The deploy phases (docs/deploy.md). Paths are relative to readiness.toml."""

    terraform_dir: str | None = None
    terraform_vars: dict[str, Any] = {}
    sensitive_vars: list[Name] = []
    """terraform_vars that are secrets: passed to terraform as TF_VAR_name, never written
    to disk by readiness. A value that comes from ${VAR} is added here by the loader."""
    terraform_binary: str = "terraform"
    state_backend: Literal["local", "module"] = "module"
    """local: readiness keeps the state in <report-dir>/terraform/<env>/ (the module
    declares `backend "local" {}`); module: the module's own backend decides."""
    allow_stateful_replacement: bool = False
    stateful_types: list[Name] = list(STATEFUL_TYPES)
    """Resource types whose delete or replacement the plan gate refuses (`*` ends a prefix)."""
    destroy_on_rollback: Literal["created", "always", "never"] = "created"
    phase_budget_minutes: int = Field(default=15, ge=1)
    canary_poll_seconds: float = Field(default=15.0, gt=0, le=300)
    probe_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    services: ServiceChanges = ServiceChanges()

    @model_validator(mode="after")
    def _sensitive_are_variables(self) -> Deploy:
        for name in self.sensitive_vars:
            if name not in self.terraform_vars:
                raise ValueError(f"sensitive_vars names {name!r}, which is not in terraform_vars")
        return self

    def public_vars(self) -> dict[str, Any]:
        """The terraform_vars that may go to the var file."""
        secret = set(self.sensitive_vars)
        return {k: v for k, v in self.terraform_vars.items() if k not in secret}

    def secret_vars(self) -> dict[str, Any]:
        """The sensitive terraform_vars: for the environment of terraform only."""
        return {k: self.terraform_vars[k] for k in self.sensitive_vars}


class Notify(_Strict):
    sns_topic_arn: str | None = None
    webhook_url: str | None = None


class GoLive(_Strict):
    """`readiness go-live`: how long stage results stay valid for `--resume`."""

    audit_max_age_minutes: int = Field(default=60, ge=1, le=24 * 60)
    monitor_interval_minutes: int = Field(default=5, ge=1, le=240)


class Postdeploy(_Strict):
    """Post-deploy monitoring: the rollback the watch runs, when it runs it, triage bounds.

    `rollback_command` is an argument list (no shell); `{report_dir}` and `{env}` in it are
    filled in. A first word `readiness` runs this installation's own command line.
    """

    rollback_command: list[Name] = [
        "readiness",
        "rollback",
        "--journal",
        "{report_dir}/deploy-journal.json",
    ]
    rollback_timeout_s: float = Field(default=900.0, gt=0, le=7200)
    triage_log_events: int = Field(default=20, ge=1, le=200)
    triage_minutes: int = Field(default=30, ge=1, le=1440)
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    rollback_after_warning_rounds: int = Field(default=3, ge=1, le=1000)
    """A warning still present in this many consecutive monitoring rounds: rollback."""
    rollback_after_blind_rounds: int = Field(default=3, ge=1, le=1000)
    """A critical check unreadable in this many consecutive rounds counts as failed."""


_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class NotApplicable(_Strict):
    """A check that cannot mean anything in this environment (Cost Explorer switched off
    for an Organizations member account, a service not offered in its regions): its
    results are not-applicable, with this reason, until the review date (a UTC date)
    has passed; from the day after, the check is judged again and the reports say the
    entry is overdue for review."""

    check: Name
    reason: Name
    owner: Name
    review: dt.date

    @field_validator("check", "reason", "owner")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("review", mode="before")
    @classmethod
    def _utc_date(cls, value: Any) -> Any:
        if isinstance(value, dt.datetime) or (
            isinstance(value, str) and not _PLAIN_DATE.match(value.strip())
        ):
            raise ValueError("must be a UTC date (YYYY-MM-DD), not a date-time or other text")
        return value

    def overdue(self, today: dt.date) -> bool:
        """The review date (a UTC day) has passed: the entry no longer applies."""
        return self.review < today


class Environment(_Strict):
    """One deployment target: a real account, or the embedded emulator."""

    name: str = ""
    description: str = ""
    account_id: str
    regions: list[str] = Field(min_length=1)
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    endpoint_url: str | None = None
    emulator: Emulator | None = None
    scope: Scope = Scope()
    expect: Expectations = Expectations()
    thresholds: Thresholds = Thresholds()
    endpoints: list[Endpoint] = []
    health_urls: list[Name] = []
    rate_limit: RateLimit | None = None
    log_groups: list[Name] = []
    deploy: Deploy = Deploy()
    notify: Notify = Notify()
    golive: GoLive = GoLive()
    postdeploy: Postdeploy = Postdeploy()
    runbook_url: str | None = None
    on_call: str | None = None
    max_attempts: int = Field(default=5, ge=1, le=20)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    read_timeout_s: float = Field(default=30.0, gt=0, le=600)
    parallelism: int = Field(default=16, ge=1, le=64)
    not_applicable: list[NotApplicable] = []
    """Checks that cannot mean anything here, each with reason, owner and review date."""

    @field_validator("not_applicable")
    @classmethod
    def _one_entry_per_check(cls, value: list[NotApplicable]) -> list[NotApplicable]:
        seen: set[str] = set()
        for entry in value:
            if entry.check in seen:
                raise ValueError(f"lists check {entry.check!r} twice")
            seen.add(entry.check)
        return value

    @field_validator("account_id")
    @classmethod
    def _account(cls, value: str) -> str:
        if not ACCOUNT_ID.match(value):
            raise ValueError("must be the 12-digit AWS account id, as a string")
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        for region in value:
            if not REGION.match(region):
                raise ValueError(f"{region!r} is not an AWS region name")
        if len(set(value)) != len(value):
            raise ValueError("lists a region twice")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^arn:aws[\w-]*:iam::\d{12}:role/.+", value):
            raise ValueError("must be an IAM role ARN (arn:aws:iam::123456789012:role/Name)")
        return value

    @model_validator(mode="after")
    def _emulator_rules(self) -> Environment:
        uses_app = any(APP_PLACEHOLDER in url for url in self._urls())
        if uses_app and self.emulator is None:
            raise ValueError(f"{APP_PLACEHOLDER} in a URL needs the embedded emulator")
        if self.emulator is not None and self.endpoint_url is not None:
            raise ValueError("give either emulator or endpoint_url, not both")
        return self

    # Where the file gave a ${VAR} (keys and list positions under this environment):
    # those values are secrets. Set by the loader; empty for an environment built in code.
    _from_variables: frozenset[tuple[str | int, ...]] = PrivateAttr(default=frozenset())

    def without_secrets(self) -> dict[str, Any]:
        """The validated settings as JSON data, each secret value replaced by SECRET_MARK:
        every ${VAR} value, the sensitive terraform_vars and the notification webhook."""
        data = self.model_dump(mode="json")
        secret = {
            *self._from_variables,
            ("notify", "webhook_url"),
            *(("deploy", "terraform_vars", name) for name in self.deploy.sensitive_vars),
        }
        for path in secret:
            _mask(data, path)
        return data

    def _urls(self) -> list[str]:
        urls = [*self.health_urls, *(e.url for e in self.endpoints)]
        if self.rate_limit is not None:
            urls.append(self.rate_limit.url)
        return urls

    @property
    def emulated(self) -> bool:
        return self.emulator is not None

    @property
    def home_region(self) -> str:
        return self.regions[0]


class ReadinessConfig(_Strict):
    default_environment: str = "local"
    environments: dict[str, Environment] = Field(min_length=1)
    waiver_max_days: int = Field(default=365, ge=1, le=3650)
    """How far ahead (days, UTC) a waiver's expires may be; a row beyond it is NO-GO.
    Set here, not in the waiver file, so a waiver's author cannot lift their own cap."""

    @model_validator(mode="after")
    def _default_exists(self) -> ReadinessConfig:
        if self.default_environment not in self.environments:
            known = ", ".join(sorted(self.environments))
            raise ValueError(
                f"default_environment {self.default_environment!r} is not defined (known: {known})"
            )
        return self

    @model_validator(mode="after")
    def _reviews_within_cap(self) -> ReadinessConfig:
        """A `not_applicable` entry is reviewed at least as often as a waiver expires:
        no permanent exemption through a review date far ahead."""
        latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=self.waiver_max_days)
        for name, environment in self.environments.items():
            for number, entry in enumerate(environment.not_applicable):
                if entry.review > latest:
                    raise ValueError(
                        f"environments.{name}.not_applicable.{number}.review: "
                        f"{entry.review.isoformat()} is more than waiver_max_days "
                        f"({self.waiver_max_days}) ahead; review by {latest.isoformat()} at "
                        "the latest"
                    )
        return self

    def unknown_not_applicable(self, catalogue: Mapping[str, str], source: str) -> str | None:
        """The first `not_applicable` entry of any environment that names a check the
        catalogue (check id -> phase) does not list, or a deploy step; None when none."""
        for name, environment in self.environments.items():
            for number, entry in enumerate(environment.not_applicable):
                where = f"{source}: environments.{name}.not_applicable.{number}.check"
                phase = catalogue.get(entry.check)
                if phase is None:
                    return (
                        f"{where}: unknown check id {_shortened(entry.check, 80)!r} "
                        "(checks/catalogue.json lists every check id)"
                    )
                if phase == "deploy":
                    return (
                        f"{where}: {entry.check!r} is a deploy step: it cannot be declared "
                        "not applicable"
                    )
        return None

    def environment(self, name: str | None) -> Environment:
        chosen = name or self.default_environment
        env = self.environments.get(chosen)
        if env is None:
            known = ", ".join(sorted(self.environments))
            raise ConfigError(f"no environment {chosen!r} (known: {known})")
        return env.model_copy(update={"name": chosen})


def _expand(
    value: Any,
    where: str,
    environ: Mapping[str, str],
    used: dict[str, str],
    unresolved: dict[str, str] | None = None,
) -> Any:
    """Replace ${VAR} from the environment in every string; a missing variable is an error
    naming the key (`where`, dotted, as in the validation messages).

    With `unresolved` (a lazy load) a string that names an unset variable is kept as it
    is written and its key recorded there with the variable, for `require` to name."""
    if isinstance(value, str):
        missing: list[str] = []

        def sub(match: re.Match[str]) -> str:
            var = match.group(1)
            if var not in environ:
                if unresolved is None:
                    raise ConfigError(
                        f"{where or '(top level)'}: environment variable {var} is not set"
                    )
                missing.append(var)
                return match.group(0)
            used[var] = environ[var]
            return environ[var]

        expanded = _VARIABLE.sub(sub, value)
        if missing and unresolved is not None:
            unresolved[where] = missing[0]
            return value  # never half expanded
        return expanded
    if isinstance(value, dict):
        return {
            k: _expand(v, _location([where, k] if where else [k]), environ, used, unresolved)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _expand(v, _location([where, i] if where else [i]), environ, used, unresolved)
            for i, v in enumerate(value)
        ]
    return value


def _mentions_variable(value: Any) -> bool:
    if isinstance(value, str):
        return _VARIABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_mentions_variable(v) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_variable(v) for v in value)
    return False


def _mark_sensitive(environment: Any) -> None:
    """A terraform_vars value taken from ${VAR} is sensitive, as if listed in
    deploy.sensitive_vars: it lives in the environment, not in the file, for a reason.
    Works on the raw table, before expansion; odd shapes are left to the validation."""
    deploy = environment.get("deploy") if isinstance(environment, dict) else None
    if not isinstance(deploy, dict) or not isinstance(deploy.get("terraform_vars"), dict):
        return
    listed = deploy.get("sensitive_vars", [])
    if not isinstance(listed, list):
        return
    names = [k for k, v in deploy["terraform_vars"].items() if _mentions_variable(v)]
    added = [k for k in names if k not in listed]
    if added:
        deploy["sensitive_vars"] = [*listed, *added]


def _variable_paths(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Where a raw table's values name a ${VAR}."""
    if isinstance(value, str):
        if _VARIABLE.search(value):
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _variable_paths(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _variable_paths(item, (*path, index))


def _holds(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def _mask(data: Any, path: tuple[str | int, ...]) -> None:
    """Replace the value at `path` in JSON data by SECRET_MARK (a value not set stays)."""
    *parents, last = path
    node = data
    for part in parents:
        if not _holds(node, part):
            return
        node = node[part]
    if _holds(node, last) and node[last] is not None:
        node[last] = SECRET_MARK


def _shortened(text: str, limit: int = 300) -> str:
    """Messages may echo the file's values: keep them one readable line however long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _location(loc: Sequence[int | str]) -> str:
    return ".".join(str(p) for p in loc)


def _nested(one: str, other: str) -> bool:
    """Whether two dotted keys are the same, or one lies under the other."""
    return (
        one == other
        or (bool(other) and one.startswith(other + "."))
        or (bool(one) and other.startswith(one + "."))
    )


def _owner(where: str, unresolved: Mapping[str, str]) -> str | None:
    """The unresolved key a validation error at `where` comes from, if any."""
    return next((key for key in unresolved if _nested(where, key)), None)


def _invalid(
    exc: ValidationError,
    source: str,
    prefix: Sequence[int | str] = (),
    unresolved: Mapping[str, str] | None = None,
) -> ConfigError:
    first = exc.errors()[0]
    key = _owner(_location(first["loc"]), unresolved or {})
    where = _location([*prefix, *first["loc"]]) or "(top level)"
    message = _shortened(str(first["msg"]).removeprefix("Value error, "))
    if key is not None and unresolved is not None:
        where = _location([*prefix, key])
        return ConfigError(f"{source}: {where}: environment variable {unresolved[key]} is not set")
    if first["type"] == "missing":
        message = "required key is missing"
    elif first["type"] == "extra_forbidden":
        message = "unknown key"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return ConfigError(f"{source}: {where}: {message}{tail}")


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def parse_config(
    text: str, source: str, environ: Mapping[str, str] | None = None
) -> tuple[ReadinessConfig, dict[str, str]]:
    """Parse and validate; return the config and the ${VAR} values it used."""
    raw = _toml(text, source)
    environments = raw.get("environments")
    if isinstance(environments, dict):
        for table in environments.values():
            _mark_sensitive(table)
    used: dict[str, str] = {}
    try:
        expanded = _expand(raw, "", os.environ if environ is None else environ, used)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    try:
        config = ReadinessConfig.model_validate(expanded)
    except ValidationError as exc:
        error = _invalid(exc, source)
        error.secrets = tuple(v for v in used.values() if v)
        raise error from None
    for name, environment in config.environments.items():
        table = environments.get(name) if isinstance(environments, dict) else None
        environment._from_variables = frozenset(_variable_paths(table))
    return config, used


def _read(path: Path) -> tuple[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return text, path.name if not path.is_absolute() else str(path)


def load_config(
    path: Path, environ: Mapping[str, str] | None = None
) -> tuple[ReadinessConfig, dict[str, str]]:
    text, source = _read(path)
    return parse_config(text, source, environ)


# -- lazy: one environment, ${VAR} resolved on use --------------------------------------


@final
@dataclass(frozen=True, slots=True)
class DeferredEnvironment:
    """One environment loaded with its unset ${VAR} references left unresolved.

    `environment` is validated like any other, except that a key whose value names an
    unset variable holds its text as written (or, where that text is not a valid value,
    the key's default). Read a key only after `require` has said it is resolved: it
    raises the same one-line ConfigError as an eager load, naming the file, the key and
    the variable, for the first requested key that is not.
    """

    environment: Environment
    source: str
    unresolved: Mapping[str, str]
    """Dotted key under `environments.NAME` -> the unset variable it names."""
    used: Mapping[str, str]
    """The variables that were set and used, name -> value (secrets, for redaction)."""

    @property
    def name(self) -> str:
        return self.environment.name

    def missing(self, key: str) -> tuple[str, str] | None:
        """The unresolved key (and its variable) at, under or above `key`, if any."""
        return next(((w, v) for w, v in self.unresolved.items() if _nested(w, key)), None)

    def require(self, *keys: str) -> Environment:
        for key in keys:
            found = self.missing(key)
            if found is not None:
                where, var = found
                raise ConfigError(
                    f"{self.source}: environments.{self.name}.{where}: "
                    f"environment variable {var} is not set"
                )
        return self.environment


def _drop(table: dict[str, Any], key: str) -> bool:
    """Remove an unresolved value the validation refused, so the rest can load; a list
    element goes with its whole list. False when it is gone already."""
    parts = key.split(".")
    holders: list[tuple[Any, str | int]] = []
    node: Any = table
    for part in parts:
        index: str | int = part
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return False
            index = int(part)
        elif not isinstance(node, dict) or part not in node:
            return False
        holders.append((node, index))
        node = node[index]
    for holder, index in reversed(holders):
        if isinstance(holder, dict):
            del holder[index]
            return True
    return False


def parse_environment(
    text: str, source: str, name: str, environ: Mapping[str, str] | None = None
) -> DeferredEnvironment:
    """Environment `name` alone, lazily: a ${VAR} it names is needed only when a caller
    `require`s its key. Other environments and unused keys may name unset variables."""
    raw = _toml(text, source)
    environments = raw.get("environments")
    if not isinstance(environments, dict):
        problem = "required key is missing" if environments is None else "not a table"
        raise ConfigError(f"{source}: environments: {problem}")
    if name not in environments:
        known = ", ".join(sorted(str(k) for k in environments))
        raise ConfigError(f"{source}: no environment {name!r} (known: {known})")
    table = environments[name]
    _mark_sensitive(table)
    used: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    expanded = _expand(table, "", os.environ if environ is None else environ, used, unresolved)
    prefix = ("environments", name)
    for _ in range(len(unresolved) + 1):
        try:
            environment = Environment.model_validate(expanded)
            break
        except ValidationError as exc:
            key = _owner(_location(exc.errors()[0]["loc"]), unresolved)
            if key is None or not isinstance(expanded, dict) or not _drop(expanded, key):
                raise _invalid(exc, source, prefix, unresolved) from None
    else:  # every unresolved key dropped and still invalid: name the first one
        key, var = next(iter(unresolved.items()))
        raise ConfigError(
            f"{source}: environments.{name}.{key}: environment variable {var} is not set"
        )
    environment._from_variables = frozenset(_variable_paths(table))
    return DeferredEnvironment(
        environment=environment.model_copy(update={"name": name}),
        source=source,
        unresolved=unresolved,
        used=used,
    )


def load_environment(
    path: Path, name: str, environ: Mapping[str, str] | None = None
) -> DeferredEnvironment:
    """`parse_environment` of a file: what `readiness rollback` loads."""
    text, source = _read(path)
    return parse_environment(text, source, name, environ)
