"""The deploy phases as pytest fixtures (`pytest -m deploy --env NAME`).

`deployment` opens the journal (the rollback's registration) and starts the prober;
`phase_infrastructure` → `phase_services` → `phase_security` → `phase_validation`
run the four phases in order, each timed against the phase budget. The checks in
`checks/deploy/` assert on their results. When the last deploy test is torn down (or
the run is interrupted), the deploy is marked done if every deploy check passed, and
rolled back otherwise (unless `--no-rollback`).

Only a run whose `-m` is exactly `deploy` may write: anything else gets no writer and
its deploy checks are not-evaluated. xdist is refused: the phases run in order, in
one process.

A report folder whose journal still needs a rollback refuses the deploy: one run
problem naming the journal and `readiness rollback --journal ...`, NO-GO, the journal
untouched (`--archive-journal` sets it aside instead). Wherever a deploy stops without
a clean end, the terminal and the report name the rollback command.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
from collections.abc import Generator, Iterator
from html import escape
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from deploy_steps.deployment import PHASE_TITLES, Deployment, PhaseResult
from deploy_steps.journal import ARCHIVE_OPTION, JournalError, recovery_needed, rollback_command
from deploy_steps.private_files import append_private
from deploy_steps.terraform_runner import secret_strings
from readiness.context import RunContext
from readiness.files import make_dirs
from readiness.pytest_plugin import context

DEPLOYMENT = pytest.StashKey["Deployment | None"]()
OUTCOMES = pytest.StashKey[dict[str, bool]]()
SETUP_ERROR = pytest.StashKey[str]()
REFUSED = pytest.StashKey[str]()
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def explicitly_deploys(config: pytest.Config) -> bool:
    """`-m deploy` and nothing else: the only selection allowed to write."""
    return _WORD.findall(config.option.markexpr or "") == ["deploy"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("readiness-deploy", "Readiness: deploy phases")
    group.addoption(
        "--no-rollback",
        action="store_true",
        default=False,
        help="keep a failed deployment for inspection (`readiness rollback` undoes it later)",
    )
    group.addoption(
        ARCHIVE_OPTION,
        dest="archive_journal",
        action="store_true",
        default=False,
        help="move aside a previous deploy journal in the report folder that still needs a "
        "rollback, and deploy anyway (it is archived under a timestamped name, never "
        "deleted; `readiness rollback --journal ARCHIVED` still undoes it)",
    )


def _xdist_requested(config: pytest.Config) -> bool:
    workers = getattr(config.option, "numprocesses", None)
    return bool(workers) or hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.stash[OUTCOMES] = {}
    config.stash[DEPLOYMENT] = None
    if explicitly_deploys(config) and _xdist_requested(config):
        raise pytest.UsageError(
            "readiness: the deploy phases run in order in one process: drop -n/--numprocesses "
            "(pytest-xdist) from `pytest -m deploy`"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A phase may take its whole budget: the ini timeout (seconds) would cut it short."""
    ctx = context(config)
    if ctx is None or ctx.env is None or getattr(config.option, "timeout", None) is not None:
        return  # `--timeout N` on the command line is the operator's choice
    seconds = ctx.env.deploy.phase_budget_minutes * 60 + 120
    for item in items:
        if item.get_closest_marker("deploy") and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(seconds))


# -- SIGTERM is an interrupt: the rollback runs ------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    if not explicitly_deploys(session.config):
        return (yield)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return (yield)
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- progress ----------------------------------------------------------------------------


def _say(config: pytest.Config, report_dir: Path) -> Any:
    log = report_dir / "deploy.log"

    def say(text: str) -> None:
        with contextlib.suppress(OSError):
            append_private(log, text + "\n")
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"deploy | {text}")
        else:
            reporter.write_line(f"deploy | {text}")

    return say


def _if_unfinished(config: pytest.Config, line: str) -> None:
    """Into the NO-GO summary.md that stands should this process die (the verdict
    plugin's hook; absent when that plugin is not loaded)."""
    hook = getattr(config.hook, "pytest_readiness_if_unfinished", None)
    if hook is not None:
        hook(config=config, lines=[line])


def report_dir(config: pytest.Config) -> Path:
    ctx = context(config)
    if ctx is not None:
        return ctx.options.out_dir
    return config.invocation_params.dir / "out"


# -- fixtures ----------------------------------------------------------------------------


def _critical(item: pytest.Item) -> bool:
    """The closest severity marker; a warning (CONDITIONAL) does not roll back."""
    for mark in item.iter_markers():
        if mark.name in ("critical", "warning"):
            return mark.name == "critical"
    return True


def _deploy_items(session: pytest.Session) -> list[pytest.Item]:
    return [i for i in session.items if i.get_closest_marker("deploy") is not None and _critical(i)]


def _succeeded(session: pytest.Session) -> tuple[bool, str]:
    outcomes = session.config.stash[OUTCOMES]
    deploy_items = _deploy_items(session)
    missing = [i.nodeid for i in deploy_items if i.nodeid not in outcomes]
    failed = [nodeid for nodeid, ok in outcomes.items() if not ok]
    if failed:
        return False, f"failed validation: {', '.join(n.split('::')[-1] for n in failed)}"
    if missing:
        return False, f"the run stopped before {len(missing)} deploy check(s) finished"
    if session.shouldfail or session.shouldstop:
        return False, "the run was stopped"
    return True, ""


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest, run_context: RunContext) -> Iterator[Deployment]:
    config = request.config
    if not explicitly_deploys(config):
        pytest.skip(
            "not-evaluated: the deploy writes only in a run that selects exactly `-m deploy`"
        )
    if run_context.access is None or run_context.env is None:
        pytest.skip("not-evaluated: the deploy needs live AWS access (not a snapshot replay)")
    out = report_dir(config)
    say = _say(config, out)
    try:
        make_dirs(out)
        deploy = Deployment(
            run_context,
            report_dir=out,
            rootdir=config.rootpath,
            say=say,
            keep_on_failure=bool(config.getoption("no_rollback")),
            archive_journal=bool(config.getoption("archive_journal")),
            on_kill=lambda line: _if_unfinished(config, line),
        )
    except (JournalError, OSError) as exc:
        refusal = f"the deploy did not start: {exc}"
        config.stash[REFUSED] = refusal
        say(refusal)
        pytest.skip(f"not-evaluated: {refusal}")
    config.stash[DEPLOYMENT] = deploy
    try:
        yield deploy
    finally:
        succeeded, reason = _succeeded(request.session)
        report = deploy.finish(succeeded, reason)
        if report is not None and report.problems:
            raise AssertionError(
                "rollback failed (finish it with `readiness rollback --journal "
                f"{deploy.journal.path}`): " + "; ".join(report.problems)
            )


def _after(previous: PhaseResult, name: str) -> None:
    if not previous.ok:
        pytest.skip(
            f"not-evaluated: {PHASE_TITLES[name]} did not run because "
            f"{PHASE_TITLES[previous.name]} failed"
        )


@pytest.fixture(scope="session")
def phase_infrastructure(deployment: Deployment) -> PhaseResult:
    return deployment.infrastructure()


@pytest.fixture(scope="session")
def phase_services(deployment: Deployment, phase_infrastructure: PhaseResult) -> PhaseResult:
    _after(phase_infrastructure, "services")
    return deployment.services()


@pytest.fixture(scope="session")
def phase_security(deployment: Deployment, phase_services: PhaseResult) -> PhaseResult:
    _after(phase_services, "security")
    return deployment.security()


@pytest.fixture(scope="session")
def phase_validation(deployment: Deployment, phase_security: PhaseResult) -> PhaseResult:
    _after(phase_security, "validation")
    return deployment.validation()


# -- outcomes, the time table ------------------------------------------------------------


def _ok(report: pytest.TestReport) -> bool:
    if report.passed:
        return True
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).startswith("Skipped: not-applicable")
    return False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.get_closest_marker("deploy") is None:
        return report
    outcomes = item.config.stash[OUTCOMES]
    if _critical(item):
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcomes[item.nodeid] = _ok(report)
        elif report.when == "teardown" and report.failed:
            outcomes[item.nodeid] = False
    deploy = item.config.stash.get(DEPLOYMENT, None)
    if deploy is not None and report.when == "call":
        item.user_properties.append(("deploy_timings", json.dumps(deploy.timing_rows())))
        if _is_last(item):
            _html_extra(report, deploy)
    return report


def _is_last(item: pytest.Item) -> bool:
    items = [i for i in item.session.items if i.get_closest_marker("deploy") is not None]
    return bool(items) and items[-1] is item


def _html_extra(report: pytest.TestReport, deploy: Deployment) -> None:
    try:
        from pytest_html import extras
    except ImportError:  # pytest-html is optional here
        return
    current = list(getattr(report, "extras", []) or [])
    current.append(extras.html(time_table_html(deploy)))
    report.extras = current  # type: ignore[attr-defined]


def _fmt(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def time_table_rows(deploy: Deployment) -> list[list[str]]:
    rows = []
    cumulative = 0.0
    for timing in deploy.timings:
        cumulative += timing.duration_s
        rows.append(
            [
                PHASE_TITLES[timing.name],
                _fmt(timing.duration_s),
                _fmt(cumulative),
                f"{timing.budget_s / 60:.0f} min",
                "yes" if timing.within_budget else "OVER BUDGET",
                timing.outcome,
            ]
        )
    return rows


HEADER = ["Phase", "Duration", "Cumulative", "Budget", "Within budget", "Outcome"]


def time_table_text(deploy: Deployment) -> list[str]:
    rows = [HEADER, *time_table_rows(deploy)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return lines


def time_table_html(deploy: Deployment) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
        for row in time_table_rows(deploy)
    )
    return f"<h3>Deploy time breakdown</h3><table><tr>{head}</tr>{body}</table>"


def _details(deploy: Deployment) -> list[str]:
    lines = []
    if deploy.plan is not None:
        gate = "REFUSED" if deploy.plan.refused else "passed"
        lines.append(f"terraform plan: {deploy.plan.summary()} (plan gate {gate})")
        lines += [f"  {d.describe()}" for d in deploy.plan.destructive]
    result = deploy.results.get("services")
    for row in (result.details.get("changes", []) if result else []) or []:
        lines.append(f"phase 2: {row.get('resource')}: {row.get('action')}")
    if deploy.prober is not None:
        lines.append(f"zero-downtime probe: {deploy.prober.tally.summary()}")
    lines.append(f"journal: {deploy.journal.path} (status {deploy.journal.status})")
    if deploy.rollback_report is not None:
        lines += [f"rollback: {a}" for a in deploy.rollback_report.actions]
        lines += [f"rollback PROBLEM: {p}" for p in deploy.rollback_report.problems]
    if recovery_needed(deploy.journal.path) is not None:
        lines.append(
            "the deploy did not end clean; roll it back with: "
            f"{rollback_command(deploy.journal.path)}"
        )
    return lines


def pytest_readiness_problems(config: pytest.Config) -> list[str]:
    refusal = config.stash.get(REFUSED, None)
    return [refusal] if refusal else []


def pytest_readiness_secrets(config: pytest.Config) -> list[str]:
    """The sensitive terraform variables' values: never in any report."""
    ctx = context(config)
    if ctx is None or ctx.env is None:
        return []
    return secret_strings(ctx.env.deploy.secret_vars())


def pytest_readiness_sections(config: pytest.Config) -> list[dict[str, str]]:
    deploy = config.stash.get(DEPLOYMENT, None)
    if deploy is None or not deploy.timings:
        return []
    table = time_table_text(deploy)
    markdown_rows = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    markdown_rows += ["| " + " | ".join(r) + " |" for r in time_table_rows(deploy)]
    details = _details(deploy)
    return [
        {
            "title": "Deploy time breakdown",
            "text": "\n".join(table + [""] + details),
            "markdown": "\n".join(markdown_rows + [""] + [f"- {d}" for d in details]),
            "html": time_table_html(deploy)
            + "<ul>"
            + "".join(f"<li>{escape(d)}</li>" for d in details)
            + "</ul>",
        }
    ]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    deploy = config.stash.get(DEPLOYMENT, None)
    if deploy is None or not deploy.timings:
        return
    terminalreporter.section("deploy time breakdown")
    for line in time_table_text(deploy) + [""] + _details(deploy):
        terminalreporter.write_line(line)
