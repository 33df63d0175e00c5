"""The core's pytest plugin: the run context, the inventory, and the check fixtures.

On the controller it loads the configuration, starts the embedded emulator, takes the
snapshot and saves it; workers load that file. Checks get `inventory`, `environment`,
`thresholds` and, through `@pytest.mark.resources(kind)`, one test per resource.

On every process of the run (controller and xdist workers) it installs the guard for
the whole process from `pytest_configure` to `pytest_unconfigure`: every AWS call, from
any client, is judged against the phase's allow-list and recorded; a refused call is a
problem of the run (NO-GO). Workers send their calls home at the end of their session.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, final

import pytest

from readiness import applicability, evidence
from readiness.aws import intercept
from readiness.aws.access import AwsAccess
from readiness.aws.guard import DeclarationError, Guard, declare
from readiness.aws.ledger import Call
from readiness.config import Environment, Thresholds
from readiness.context import RunContext, RunOptions, describe
from readiness.inventory.allowlist import PHASES, phase_policy
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

CONTEXT = pytest.StashKey[RunContext]()
GUARD = pytest.StashKey[intercept.Installation]()
CALLS_BEFORE = pytest.StashKey[int]()
# The run's UTC day, fixed once on the controller (workers get it): which
# `not_applicable` entries are in force is decided against it everywhere in the run.
RUN_DAY = pytest.StashKey[dt.date]()
DAY_KEY = "readiness_day"
CHECKOUT = pytest.StashKey[evidence.Checkout | None]()
WORKER_KEY = "readiness"
WORKER_OUTPUT = "readiness_guard"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@final
@dataclass(frozen=True, slots=True)
class Placeholder:
    """A parameter that stands for "nothing to judge" or "could not read"."""

    reason: str


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("readiness-target", "Readiness: target and inventory")
    group.addoption("--env", default=None, help="environment from readiness.toml (default: local)")
    group.addoption("--config", default=None, help="configuration file (default: readiness.toml)")
    group.addoption(
        "--snapshot", default=None, help="re-evaluate a saved inventory.json with no AWS call"
    )
    group.addoption("--window", default="2h", help="post-deploy window: 2h or 24h")
    group.addoption(
        "--profile",
        default=None,
        help="AWS profile for this run, before READINESS_PROFILE and the environment's "
        "profile (empty: the ambient credentials, as in CI)",
    )


def _phases(config: pytest.Config) -> list[str]:
    words = set(re.findall(r"[A-Za-z_]+", config.option.markexpr or ""))
    named = [p for p in PHASES if p in words]
    return named or list(PHASES)


def _deploys(config: pytest.Config) -> bool:
    """`-m deploy` and nothing else: the only selection whose calls may write."""
    return _WORD.findall(config.option.markexpr or "") == ["deploy"]


def _out_dir(config: pytest.Config) -> Path:
    given = config.getoption("report_dir", None)
    if given:
        return (config.invocation_params.dir / str(given)).resolve()
    # Where pytest was started, whatever rootdir it chose (`--config PATH` can move it).
    return config.invocation_params.dir / "out"


def _path(config: pytest.Config, given: str | None, default: str) -> Path:
    if given:
        return (config.invocation_params.dir / given).resolve()
    return config.rootpath / default


# The verdict plugin (reports.plugin) decides whether a run is a gate and registers
# under this name in its tryfirst pytest_configure, before this plugin's.
VERDICT_PLUGIN = "readiness-verdict"


def _gate(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin(VERDICT_PLUGIN)


DORMANT = pytest.StashKey[str]()


def _unconfigured(config: pytest.Config) -> str:
    """Why there is no configuration to run with ('' when there is one to load)."""
    if any(config.getoption(name, None) for name in ("config", "env", "snapshot")):
        return ""
    default = _path(config, None, "readiness.toml")
    if default.exists():
        return ""
    return f"no readiness.toml in {default.parent}: give --config PATH"


def context(config: pytest.Config) -> RunContext | None:
    return config.stash.get(CONTEXT, None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "resources(kind, where=None): one test per resource of this inventory kind",
    )
    config.addinivalue_line(
        "markers",
        "expected(field): one test per name the environment's [expect] table lists",
    )
    config.addinivalue_line(
        "markers",
        "aws_reads(*operations): the service:Operation calls a check makes with `aws`",
    )
    if not _gate(config):
        return
    unconfigured = _unconfigured(config)
    if unconfigured:
        # A gate over checks that need no account (a small suite of its own): nothing
        # to read. A check that does need one is not-evaluated, saying why.
        config.stash[DORMANT] = unconfigured
        return
    phases = _phases(config)
    options = RunOptions(
        config_path=_path(config, config.getoption("config"), "readiness.toml"),
        env_name=config.getoption("env"),
        out_dir=_out_dir(config),
        phases=phases,
        window=str(config.getoption("window")),
        snapshot_path=_path(config, config.getoption("snapshot"), "")
        if config.getoption("snapshot")
        else None,
        # Always guarded: only the deploy plugin takes a writer, and only when `-m` is
        # exactly `deploy` (a run with no -m selects every phase but must not write).
        read_only=True,
        profile=config.getoption("profile"),
    )
    ctx = RunContext(options)
    config.stash[CONTEXT] = ctx
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.stash[RUN_DAY] = _run_day(workerinput.get(DAY_KEY))
        ctx.from_controller(dict(workerinput.get(WORKER_KEY, {})))
        _install_guard(config, ctx)
        return
    config.stash[RUN_DAY] = applicability.utc_today()
    config.add_cleanup(ctx.stop)
    loaded = ctx.load_configuration() and _not_applicable_known(config, ctx)
    _install_guard(config, ctx)
    if loaded:
        ctx.start_emulator()


def _run_day(given: object) -> dt.date:
    try:
        return dt.date.fromisoformat(str(given))
    except ValueError:
        return applicability.utc_today()


def _not_applicable_known(config: pytest.Config, ctx: RunContext) -> bool:
    """Every `not_applicable` entry names a check of the catalogue (when it can be read:
    the verdict plugin makes an unreadable one a problem of its own)."""
    phases = applicability.catalogue_phases(checks_folder(config) / applicability.CATALOGUE_NAME)
    if ctx.config is None or phases is None:
        return True
    problem = ctx.config.unknown_not_applicable(phases, str(ctx.options.config_path))
    if problem is not None:
        ctx.fail(problem)
        return False
    return True


def _install_guard(config: pytest.Config, ctx: RunContext) -> None:
    """From here to pytest_unconfigure, every AWS call of this process is judged."""
    policy = phase_policy(
        ctx.options.phases,
        deploy=_deploys(config),
        replay=ctx.options.snapshot_path is not None,
    )
    ctx.guard = Guard(policy, ctx.ledger)
    config.stash[GUARD] = intercept.install(ctx.guard)


def pytest_unconfigure(config: pytest.Config) -> None:
    installation = config.stash.get(GUARD, None)
    if installation is not None:
        del config.stash[GUARD]
        intercept.uninstall(installation)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    ctx = context(session.config)
    if ctx is None or hasattr(session.config, "workerinput") or ctx.fatal:
        return
    try:
        ctx.connect()
        if ctx.fatal is None:
            ctx.take_inventory()
            ctx.save_inventory()
    except Exception as exc:  # never a traceback: a problem, and NO-GO
        ctx.fail(f"could not prepare the run: {type(exc).__name__}: {exc}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    ctx = context(node.config)
    if ctx is not None:
        node.workerinput[WORKER_KEY] = ctx.for_worker()
        node.workerinput[DAY_KEY] = node.config.stash[RUN_DAY].isoformat()


def pytest_report_header(config: pytest.Config) -> list[str]:
    ctx = context(config)
    if ctx is None:
        return []
    lines = [f"target: {describe(ctx.target)}"]
    if ctx.target is not None and ctx.target.emulated:
        lines.append("target: LOCAL EMULATOR - this run says nothing about a real account")
    elif ctx.target is not None and (
        evidence.target_kind(ctx.target.endpoint, False) == evidence.CUSTOM_ENDPOINT_TARGET
    ):
        lines.append("target: CUSTOM ENDPOINT - not AWS itself: says nothing about an AWS account")
    if ctx.fatal:
        lines.append(f"readiness: cannot run: {ctx.fatal}")
    return lines


# -- parametrisation ----------------------------------------------------------------


def _unique(ids: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        n = seen.get(i, 0)
        seen[i] = n + 1
        out.append(i if n == 0 else f"{i}#{n + 1}")
    return out


Where = Callable[[Resource, Environment], bool]


def resource_params(
    ctx: RunContext | None, kind: str, where: Where | None
) -> tuple[list[Any], list[str]]:
    if ctx is None or ctx.snapshot is None or ctx.env is None:
        why = ctx.fatal if ctx is not None and ctx.fatal else "no inventory in this run"
        return [Placeholder(f"not-evaluated: {why}")], ["unavailable"]
    snapshot = ctx.snapshot
    if not snapshot.collected(kind):
        return [Placeholder(f"not-evaluated: {kind} was not collected in this run")], [
            "not-collected"
        ]
    resources = snapshot.resources(kind)
    if where is not None:
        resources = [r for r in resources if where(r, ctx.env)]
    params: list[Any] = list(resources)
    ids = [r.label for r in resources]
    for gap in snapshot.gaps(kind):
        params.append(Placeholder(f"not-evaluated: {gap.message()}"))
        ids.append(f"{gap.region}/(unreadable)")
    if not params:
        return [Placeholder(f"not-applicable: no {kind} in scope")], ["none"]
    return params, _unique(ids)


def expected_params(ctx: RunContext | None, field: str) -> tuple[list[Any], list[str]]:
    if ctx is None or ctx.env is None:
        why = ctx.fatal if ctx is not None and ctx.fatal else "no environment in this run"
        return [Placeholder(f"not-evaluated: {why}")], ["unavailable"]
    names = list(getattr(ctx.env.expect, field))
    if not names:
        return [Placeholder(f"not-applicable: the environment expects no {field}")], ["none"]
    return names, _unique(names)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    expected = metafunc.definition.get_closest_marker("expected")
    if expected is not None and "expected_name" in metafunc.fixturenames:
        names, ids = expected_params(context(metafunc.config), str(expected.args[0]))
        metafunc.parametrize("expected_name", names, ids=ids, indirect=True)
    mark = metafunc.definition.get_closest_marker("resources")
    if mark is None or "resource" not in metafunc.fixturenames:
        return
    ctx = context(metafunc.config)
    kind = str(mark.args[0])
    where = mark.kwargs.get("where")
    try:
        params, ids = resource_params(ctx, kind, where)
    except Exception as exc:
        params, ids = (
            [Placeholder(f"not-evaluated: selecting {kind} failed: {exc}")],
            ["unavailable"],
        )
    metafunc.parametrize("resource", params, ids=ids, indirect=True)


# -- not-evaluated: the data was not there ------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    reason = _not_applicable_here(item)
    if reason is not None:  # not run at all: no fixture, no read
        pytest.skip(reason)
    try:
        return (yield)
    except NotEvaluated as exc:
        pytest.skip(f"not-evaluated: {exc}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    except NotEvaluated as exc:
        pytest.skip(f"not-evaluated: {exc}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ctx = context(config)
    if ctx is not None and ctx.fatal and items:
        config.hook.pytest_deselected(items=list(items))
        items[:] = []
    if ctx is not None and ctx.guard is not None:
        _allow_check_reads(ctx, ctx.guard, items)


def _allow_check_reads(ctx: RunContext, guard: Guard, items: list[pytest.Item]) -> None:
    """The reads the selected checks declare with `@pytest.mark.aws_reads(...)`."""
    if ctx.options.snapshot_path is not None:
        return  # a replay sends nothing
    for item in items:
        for mark in item.iter_markers("aws_reads"):
            try:
                guard.allow(declare(item.nodeid, [str(a) for a in mark.args]))
            except DeclarationError as exc:
                ctx.problems.append(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """The guard names the check that made a call."""
    ctx = context(item.config)
    guard = ctx.guard if ctx is not None else None
    if guard is None:
        return (yield)
    guard.current_test = item.nodeid
    item.stash[CALLS_BEFORE] = ctx.ledger.count() if ctx is not None else 0
    try:
        return (yield)
    finally:
        guard.current_test = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A check that passed although an AWS call it made failed has swallowed the
    error: whatever it concluded is not a pass, and the run says so (NO-GO)."""
    report = yield
    ctx = context(item.config)
    if call.when != "call" or not report.passed or ctx is None or CALLS_BEFORE not in item.stash:
        return report
    failed = [
        c
        for c in ctx.ledger.since(item.stash[CALLS_BEFORE])
        if c.called_from == item.nodeid and c.outcome not in ("ok", "pending") and not c.refused
    ]
    for c in failed[:3]:
        problem = (
            f"{item.nodeid} passed although its AWS call {c.name} failed ({c.outcome}): "
            "a check that cannot read must raise NotEvaluated, never pass"
        )
        if problem not in ctx.problems:
            ctx.problems.append(problem)
    return report


def _not_applicable_here(item: pytest.Item) -> str | None:
    """The skip message when the environment declares this check not applicable."""
    ctx = context(item.config)
    mark = item.get_closest_marker("check")
    if ctx is None or ctx.env is None or mark is None or RUN_DAY not in item.config.stash:
        return None
    entry = applicability.in_force(ctx.env, item.config.stash[RUN_DAY]).get(
        str(mark.kwargs.get("id"))
    )
    return applicability.skip_reason(entry, ctx.env.name) if entry is not None else None


# -- fixtures -----------------------------------------------------------------------


def _require(request: pytest.FixtureRequest) -> RunContext:
    ctx = context(request.config)
    if ctx is None:
        why = request.config.stash.get(DORMANT, "the readiness gate is not active in this run")
        pytest.skip(f"not-evaluated: {why}")
    if ctx.fatal:
        pytest.skip(f"not-evaluated: {ctx.fatal}")
    return ctx


@pytest.fixture(scope="session")
def run_context(request: pytest.FixtureRequest) -> RunContext:
    return _require(request)


@pytest.fixture(scope="session")
def environment(run_context: RunContext) -> Environment:
    if run_context.env is None:
        pytest.skip("not-evaluated: no environment configured")
    return run_context.env


@pytest.fixture(scope="session")
def thresholds(environment: Environment) -> Thresholds:
    return environment.thresholds


@pytest.fixture(scope="session")
def inventory(run_context: RunContext) -> Snapshot:
    if run_context.snapshot is None:
        pytest.skip("not-evaluated: no inventory was taken")
    return run_context.snapshot


@pytest.fixture
def resource(request: pytest.FixtureRequest) -> Resource:
    param = getattr(request, "param", None)
    if isinstance(param, Placeholder):
        pytest.skip(param.reason)
    if not isinstance(param, Resource):
        pytest.skip("not-evaluated: the check asked for a resource without @pytest.mark.resources")
    return param


@pytest.fixture
def expected_name(request: pytest.FixtureRequest) -> str:
    param = getattr(request, "param", None)
    if isinstance(param, Placeholder):
        pytest.skip(param.reason)
    if not isinstance(param, str):
        pytest.skip("not-evaluated: the check asked for a name without @pytest.mark.expected")
    return param


@pytest.fixture(scope="session")
def aws(run_context: RunContext) -> AwsAccess:
    """Live AWS access (guarded read-only unless the run deploys); controller only."""
    if run_context.access is None:
        pytest.skip("not-evaluated: no live AWS access in this run (snapshot replay or worker)")
    return run_context.access


# -- what the reports ask -----------------------------------------------------------


def pytest_readiness_target(config: pytest.Config) -> dict[str, Any] | None:
    ctx = context(config)
    if ctx is None:
        return None
    if ctx.target is not None:
        target = ctx.target.to_json()
    elif ctx.env is not None:
        target = {
            "environment": ctx.env.name,
            "account": ctx.env.account_id,
            "regions": list(ctx.env.regions),
            "emulated": ctx.env.emulated,
        }
    else:
        target = {"environment": ctx.options.env_name or "(default)", "account": "?", "regions": []}
    target["label"] = describe(ctx.target) if ctx.target else target["environment"]
    if ctx.target is not None:
        target["kind"] = evidence.target_kind(ctx.target.endpoint, ctx.target.emulated)
    elif ctx.env is not None:
        target["kind"] = evidence.target_kind(ctx.env.endpoint_url, ctx.env.emulated)
    else:
        target["kind"] = None  # no configuration: what answers is not known
    if ctx.options.snapshot_path is not None:
        target["replayed_from"] = str(ctx.options.snapshot_path)
    return target


def checks_folder(config: pytest.Config) -> Path:
    """The folder of the checks this run judges with: the verdict plugin resolves it
    into `--checks` when the run starts (reports.checks_folder)."""
    given = config.getoption("checks", None)
    if given:
        return (config.invocation_params.dir / str(given)).resolve()
    return config.rootpath / "checks"


def pytest_readiness_evidence(config: pytest.Config) -> dict[str, Any] | None:
    """Who read the account, the checks' commit, the configuration's digest and where
    the data came from (the reports add the tool version and the target's kind)."""
    ctx = context(config)
    if ctx is None:
        return None
    if CHECKOUT not in config.stash:  # git once per run, on the controller
        config.stash[CHECKOUT] = evidence.checkout_of(checks_folder(config))
    checkout = config.stash[CHECKOUT]
    return {
        "caller_arn": evidence.caller_arn(ctx.snapshot),
        "checks_commit": checkout.commit if checkout else None,
        "checks_dirty": checkout.dirty if checkout else None,
        "config_sha256": evidence.config_sha256(ctx.env) if ctx.env is not None else None,
        **evidence.data_source(ctx.snapshot, ctx.options.snapshot_path),
    }


def pytest_readiness_not_applicable(config: pytest.Config) -> list[dict[str, Any]] | None:
    """The environment's `not_applicable` entries, each in force or overdue today."""
    ctx = context(config)
    if ctx is None or ctx.env is None or RUN_DAY not in config.stash:
        return None
    return applicability.report_rows(ctx.env, config.stash[RUN_DAY])


def pytest_readiness_waiver_max_days(config: pytest.Config) -> int | None:
    """readiness.toml's cap on how far ahead a waiver may expire."""
    ctx = context(config)
    return ctx.config.waiver_max_days if ctx is not None and ctx.config is not None else None


def pytest_readiness_problems(config: pytest.Config) -> list[str]:
    """The run's problems, and one line per call the guard refused."""
    ctx = context(config)
    if ctx is None:
        return []
    return list(dict.fromkeys([*ctx.problems, *ctx.ledger.refusals()]))


def pytest_readiness_notes(config: pytest.Config) -> list[str]:
    """What the reader should know that does not change the verdict (the credentials the
    run used when they are not the configured profile)."""
    ctx = context(config)
    return list(ctx.notes) if ctx is not None else []


def pytest_readiness_secrets(config: pytest.Config) -> list[str]:
    ctx = context(config)
    return list(ctx.secrets) if ctx is not None else []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """A worker ended: its calls (and refusals) join the controller's ledger."""
    ctx = context(node.config)
    output = getattr(node, "workeroutput", None)
    if ctx is None or not isinstance(output, dict):
        return
    sent = output.get(WORKER_OUTPUT) or {}
    ctx.ledger.merge([Call.from_json(c) for c in sent.get("calls", []) if isinstance(c, dict)])
    ctx.problems += [str(p) for p in sent.get("problems", []) if str(p) not in ctx.problems]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    ctx = context(session.config)
    if ctx is None:
        return
    output = getattr(session.config, "workeroutput", None)
    if isinstance(output, dict):  # after the session fixtures' teardown
        workerinput = dict(getattr(session.config, "workerinput", {}))
        inherited = set(dict(workerinput.get(WORKER_KEY, {})).get("problems", []))
        output[WORKER_OUTPUT] = {
            "calls": [c.to_json() for c in ctx.ledger.calls],
            "problems": [p for p in ctx.problems if p not in inherited],
        }
        return
    if hasattr(session.config, "workerinput"):
        return
    try:
        ctx.write_ledger()
    except OSError as exc:  # the ledger is evidence, not part of the verdict
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"readiness: cannot write the API-call ledger: {exc}", red=True)
