"""The verdict plugin: polices the checks and folds their outcomes into the exit code.

Active when the ini option `readiness_gate` is true (this project's pyproject sets it
for `checks/`); the selftests run as an ordinary pytest session. The exit code is set
by the outermost `pytest_sessionfinish` wrapper, after every other plugin, and
`verdict.json` says NO-GO from the moment the session starts until it is replaced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import Generator
from html import escape
from pathlib import Path
from typing import Any, final

import pytest

from reports import hooks
from reports.applicability import NotApplicableEntry, entries_from
from reports.checks_folder import (
    NodePlaces,
    catalogue_path,
    checks_dir,
    config_file,
    gate_active,
    installed_checks,
    run_from_elsewhere,
)
from reports.coverage import (
    CATALOGUE,
    GATE_PHASE,
    Catalogue,
    CatalogueError,
    Coverage,
    asked_phase,
    load_catalogue,
    measure,
)
from reports.evidence import gather, one_line
from reports.files import make_dirs, make_private, write_atomic, write_json
from reports.outcomes import Result
from reports.outputs import html as html_out
from reports.outputs import junit as junit_out
from reports.outputs import markdown as markdown_out
from reports.outputs import terminal as terminal_out
from reports.policing import inspect_item, register_markers, tag_of
from reports.redaction import (
    Redactor,
    scrub_extra,
    scrub_header,
    scrub_in_place,
    scrub_terminal,
    secret_values_from_environment,
    secret_values_in,
)
from reports.selection import partial_reasons, phase_label
from reports.summary import RunSummary, placeholder
from reports.tally import HINT, ResultBook, outcome_hint, report_outcome
from reports.verdict import decide
from reports.waivers import (
    DEFAULT_MAX_DAYS,
    Waiver,
    WaiverFileError,
    WaiverStatus,
    apply_waivers,
    check_expiry_cap,
    load_waivers,
)

PLUGIN_NAME = "readiness-verdict"
WORKER_KEY = "readiness_internal"
# Published data files written by the core, scrubbed before the verdict is written.
SCRUBBED_DATA = ("inventory.json",)
# Written by the core after the verdict's files (at the end of the session): scrubbed then.
LATE_DATA = ("api-calls.json", "iam-policy.json")
FILES = {
    "html": "readiness.html",
    "json": "verdict.json",
    "junit": "junit.xml",
    "markdown": "summary.md",
}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("readiness", "Readiness: verdict and reports")
    group.addoption(
        "--report-dir",
        default=None,
        help="folder for readiness.html, verdict.json, junit.xml, summary.md (default: out/)",
    )
    group.addoption(
        "--allow-partial",
        action="store_true",
        default=False,
        help="accept a run of part of a phase (-k, -m, --deselect, --lf, node ids, ini "
        "overrides) as a verdict; every output then says which checks were not judged",
    )
    group.addoption(
        "--waivers",
        default=None,
        help="waiver file (default: waivers.toml beside the --config file, else in the rootdir)",
    )
    group.addoption(
        "--checks",
        default=None,
        help="the checks folder (default: checks/ beside the --config file when it has a "
        "catalogue.json, else the checks installed with readiness)",
    )
    parser.addini(
        "readiness_gate",
        "turn the run into a go/no-go gate: policed checks, verdict exit code, reports "
        "(unset: a gate when a readiness option such as --config or --env is given)",
        type="bool",
        default=None,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """A gate started from any folder runs the checks, the way the project's ini would."""
    if not gate_active(early_config):
        return
    given = set(args)
    if not any(a.startswith("--import-mode") for a in given):
        # Check modules share names across phases (test_ecs.py) and have no __init__.py.
        args.append("--import-mode=importlib")
    if early_config.getini("readiness_gate") is None:  # no project ini: its defaults
        if not any(a.startswith("--tb") for a in given):
            args.append("--tb=line")
        if not any(a.startswith("--timeout") for a in given):
            args.append("--timeout=120")
    checks = checks_dir(early_config)
    if not early_config.known_args_namespace.file_or_dir and run_from_elsewhere(early_config):
        args.append(str(checks))
    if not early_config.known_args_namespace.checks:
        args.append(f"--checks={checks}")  # one answer for every plugin


def report_dir(config: pytest.Config) -> Path:
    """The output folder: --report-dir (relative to where pytest was started) or out/."""
    given = config.getoption("report_dir", None)
    if given:
        return (config.invocation_params.dir / str(given)).resolve()
    # Where pytest was started, whatever rootdir it chose (`--config PATH` can move it).
    return config.invocation_params.dir / "out"


@pytest.hookimpl(tryfirst=True)
@pytest.hookimpl(tryfirst=True)  # before any other plugin can block (an emulator start)
def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    if gate_active(config) and not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(VerdictPlugin(config), PLUGIN_NAME)


@final
class VerdictPlugin:
    """One instance per process; the controller (or the single process) decides."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.controller = not hasattr(config, "workerinput")
        self.book = ResultBook()
        self.internal: list[str] = []
        self.out = report_dir(config)
        self.run_id = os.environ.get("READINESS_RUN_ID") or uuid.uuid4().hex[:12]
        self.started = dt.datetime.now(dt.UTC)
        self.phase = phase_label(config)
        self.selection_problems: list[str] = []
        asked = asked_phase(os.environ.get(GATE_PHASE, ""), self.run_id)
        if asked and asked != self.phase:
            self.selection_problems.append(
                f"the gate runs phase {asked} but -m {config.option.markexpr or ''!r} "
                f"selects {self.phase}"
            )
            self.phase = asked
        self.redactor = Redactor(secret_values_from_environment())
        self.waivers: list[Waiver] = []
        self.waiver_error: str | None = None
        self.waiver_source = "waivers.toml"
        self.summary: RunSummary | None = None
        self.html_by_pytest_html = False
        self.if_unfinished: list[str] = []
        self.catalogue: Catalogue | None = None
        self.catalogue_error: str | None = None
        if self.controller:
            # The previous run's files must not outlive an interrupt or crash that comes
            # before the session starts (while the emulator starts, for instance); a
            # `--help` or `--markers`, which never start a session, leaves them alone.
            if not (config.option.help or getattr(config.option, "markers", False)):
                self._mark_unfinished()
                if self.internal:
                    # Nowhere to write the verdict: stop before anything runs.
                    pytest.exit(f"readiness: NO-GO (exit 2): {self.internal[0]}", returncode=2)
            self._load_waivers()
            self._load_catalogue()
            # pytest-html writes readiness.html; when it is disabled (-p no:html) or told
            # to write elsewhere (--html=...), the plugin writes the summary page itself.
            ours = str(self.out / FILES["html"])
            if getattr(config.option, "htmlpath", ours) is None:
                config.option.htmlpath = ours
                config.option.self_contained_html = True
            self.html_by_pytest_html = getattr(config.option, "htmlpath", None) == ours

    # -- set-up -------------------------------------------------------------------------

    def _mark_unfinished(self) -> None:
        """verdict.json and summary.md say NO-GO until the run replaces them."""
        try:
            make_dirs(self.out)
            if not self.out.is_dir():
                raise NotADirectoryError(f"{self.out} is not a folder")
            write_json(self.out / FILES["json"], placeholder(self.run_id, self.started, self.phase))
            write_atomic(self.out / FILES["markdown"], self._unfinished_markdown())
            for stale in (FILES["junit"], FILES["html"]):
                (self.out / stale).unlink(missing_ok=True)
        except OSError as exc:
            why = exc.strerror or str(exc)
            problem = f"the report folder {self.out} cannot be used: {why}"
            if problem not in self.internal:
                self.internal.append(problem)

    def _unfinished_markdown(self) -> str:
        lines = ["## 🔴 Readiness: NO-GO (exit 2)", "", "The run did not finish."]
        lines += [f"- ➡️ {self.redactor.scrub(line)}" for line in self.if_unfinished]
        return "\n".join(lines) + "\n"

    def pytest_readiness_if_unfinished(self, config: pytest.Config, lines: list[str]) -> None:
        """A plugin made something a reader must act on should the run die from here."""
        if not self.controller:
            return
        self.if_unfinished.extend(str(line) for line in lines)
        try:
            write_atomic(self.out / FILES["markdown"], self._unfinished_markdown())
        except OSError as exc:
            self.internal.append(f"cannot write {FILES['markdown']}: {exc.strerror or exc}")

    def _load_catalogue(self) -> None:
        try:
            self.catalogue = load_catalogue(catalogue_path(self.config))
        except CatalogueError as exc:
            self.catalogue_error = str(exc)

    def _load_waivers(self) -> None:
        given = self.config.getoption("waivers", None)
        path = (
            (self.config.invocation_params.dir / str(given))
            if given
            else config_file(self.config).parent / "waivers.toml"
        )
        self.waiver_source = str(path)
        try:
            if given and not path.exists():
                raise WaiverFileError(f"{path}: waiver file not found")
            self.waivers = load_waivers(path)
        except WaiverFileError as exc:
            self.waiver_error = str(exc)

    def _refresh_redactor(self) -> None:
        extra: list[str] = []
        for values in self.config.hook.pytest_readiness_secrets(config=self.config):
            extra.extend(v for v in values or [] if isinstance(v, str))
        if self.controller:
            extra.extend(secret_values_in(self._safe(self._target, {})))
        self.redactor = Redactor(secret_values_from_environment()).add(extra)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not self.controller:
            self._guard(self._refresh_redactor)
            return
        self.started = dt.datetime.now(dt.UTC)  # the placeholder is already there
        self._guard(self._refresh_redactor)
        self._guard(lambda: scrub_terminal(self.config, lambda: self.redactor))
        self._guard(self._scrub_metadata)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_header(
        self, config: pytest.Config
    ) -> Generator[None, list[str | list[str]], list[str | list[str]]]:
        """Every plugin's header lines, scrubbed with what is known by now (the target's
        URL, the configuration's ${VAR} values): pytest prints them before any report."""
        answers = yield
        self._guard(self._refresh_redactor)
        own = [f"readiness: gate on, phase {self.phase}, reports in {self.out}"]
        if self.controller:  # pytest prints the lines last first: this one after the above
            own.insert(0, f"evidence: {one_line(self._safe(self._evidence, {}))}")
        return scrub_header([*answers, *own], self.redactor.scrub)

    def _scrub_metadata(self) -> None:
        try:
            from pytest_metadata.plugin import metadata_key  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - pytest-html always brings it
            return
        metadata = self.config.stash.get(metadata_key, None)
        if isinstance(metadata, dict):
            self._refresh_redactor()
            for key, value in list(metadata.items()):
                metadata[key] = self.redactor.scrub_obj(value)

    def _guard(self, action: Any) -> None:
        try:
            action()
        except Exception as exc:
            self.internal.append(f"verdict plugin failed: {type(exc).__name__}: {exc}")

    # -- collection: police every check -------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        try:
            if report.passed and report.result:
                problems = []
                for node in report.result:
                    if isinstance(node, pytest.Item):
                        problems += [f"{node.nodeid}: {p}" for p in inspect_item(node)]
                if problems:
                    report.outcome = "failed"
                    report.longrepr = "checks that break the rules:\n  " + "\n  ".join(problems)
                    report.result = []
        except Exception as exc:
            report.outcome = "failed"
            report.longrepr = f"verdict plugin failed while policing: {type(exc).__name__}: {exc}"
            report.result = []
        return report

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.controller:
            self._guard(self._refresh_redactor)
        if not self.config.pluginmanager.has_plugin("dsession"):
            self.book.expect([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.book.expect(list(ids))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        """A worker ended: bring home its plugin failures; a crash is a problem."""
        name = str(getattr(getattr(node, "gateway", None), "id", "worker"))
        output = getattr(node, "workeroutput", None)
        if isinstance(output, dict):
            self.internal.extend(str(p) for p in output.get(WORKER_KEY, []) or [])
        if error:
            self.internal.append(f"xdist worker {name} crashed: {error}")

    # -- running: tag and scrub every report where it is made ---------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        try:
            if call.when == "call":
                report.user_properties.append((HINT, outcome_hint(call.excinfo)))
            self._scrub_report(report)
        except Exception as exc:
            self.internal.append(f"verdict plugin failed on a report: {exc}")
            report.outcome = "failed"
            report.longrepr = f"verdict plugin failed on this report: {type(exc).__name__}"
        return report

    def _scrub_report(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        scrub = self.redactor.scrub
        if isinstance(report.longrepr, str):
            report.longrepr = scrub(report.longrepr)
        elif isinstance(report.longrepr, tuple):
            path, line, message = report.longrepr
            report.longrepr = (path, line, scrub(str(message)))
        elif report.longrepr is not None:
            scrub_in_place(report.longrepr, scrub)
        report.sections = [(title, scrub(content)) for title, content in report.sections]
        if isinstance(report, pytest.TestReport):
            report.user_properties = [
                (key, scrub(value) if isinstance(value, str) else value)
                for key, value in report.user_properties
            ]
        extras = getattr(report, "extras", None)
        if isinstance(extras, list):
            for extra in extras:
                if isinstance(extra, dict):
                    scrub_extra(extra, self.redactor)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.controller:
            return
        try:
            self._scrub_report(report)
            self.book.add(report)
        except Exception as exc:
            self.internal.append(f"verdict plugin failed on {report.nodeid}: {exc}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not self.controller:
            return
        try:
            self._scrub_report(report)
            self.book.add_collect_report(report)
        except Exception as exc:
            self.internal.append(f"verdict plugin failed on a collect report: {exc}")

    # -- the end: decide, write, print, exit --------------------------------------------

    def _run_problems(
        self, session: pytest.Session, exitstatus: int, results: list[Result]
    ) -> tuple[list[str], list[str], Coverage | None]:
        """The run's problems and notes, and what part of its phase it judged."""
        problems: list[str] = []
        notes: list[str] = []
        for answer in self.config.hook.pytest_readiness_problems(config=self.config):
            problems.extend(str(p) for p in answer or [])
        for answer in self.config.hook.pytest_readiness_notes(config=self.config):
            notes.extend(str(n) for n in answer or [])
        checks = checks_dir(self.config)
        if checks != installed_checks() and self.catalogue is not None:
            notes.append(
                f"the checks judged are those in {checks} (catalogue sha256 "
                f"{self.catalogue.digest[:12]}), not those installed with readiness"
            )
        if self.waiver_error:
            problems.append(self.waiver_error)
        problems += self.selection_problems
        problems += self.book.collection_errors
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            problems.append("the run was interrupted")
        elif exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            problems.append("pytest reported an internal error")
        elif exitstatus == pytest.ExitCode.USAGE_ERROR:
            problems.append("pytest reported a usage error")
        if session.shouldfail:
            problems.append(f"the run stopped early: {session.shouldfail}")
        unfinished = self.book.unfinished()
        if unfinished:
            shown = ", ".join(unfinished[:3]) + (" ..." if len(unfinished) > 3 else "")
            problems.append(f"{len(unfinished)} checks did not finish: {shown}")
        partial = partial_reasons(self.config)
        coverage = self._coverage(results)
        if coverage is None:
            problems.append(self.catalogue_error or "the check catalogue was not loaded")
        else:
            if not coverage.expected:
                problems.append(
                    f"the catalogue {CATALOGUE.as_posix()} lists no check of phase {self.phase}"
                )
            problems += coverage.mismatches
            reason = coverage.partial_reason()
            if reason:
                partial.append(reason)
        if partial and self.config.getoption("allow_partial"):
            notes += [f"partial run accepted (--allow-partial): {p}" for p in partial]
        else:
            problems += [f"partial run (pass --allow-partial to accept): {p}" for p in partial]
        if not results:
            problems.append("no check ran: a gate that judged nothing is not a GO")
        problems += self._duplicate_ids(results)
        problems += self.internal
        return problems, notes, coverage

    def _coverage(self, results: list[Result]) -> Coverage | None:
        if self.catalogue is None:
            return None
        places = NodePlaces(self.config.rootpath, checks_dir(self.config))
        return measure(self.catalogue, self.phase, results, places)

    @staticmethod
    def _duplicate_ids(results: list[Result]) -> list[str]:
        owners: dict[str, set[str]] = {}
        for r in results:
            owners.setdefault(r.check.id, set()).add(r.nodeid.split("[", 1)[0])
        return [
            f"check id {cid!r} is used by {len(fns)} checks: {', '.join(sorted(fns))}"
            for cid, fns in sorted(owners.items())
            if len(fns) > 1
        ]

    def _target(self) -> dict[str, Any]:
        target = self.config.hook.pytest_readiness_target(config=self.config)
        if not isinstance(target, dict):
            return {}
        target = dict(target)
        regions = target.get("regions", [])
        target["regions"] = (
            [str(r) for r in regions] if isinstance(regions, list | tuple) else [str(regions)]
        )
        return target

    def _evidence(self) -> dict[str, Any]:
        reported = self.config.hook.pytest_readiness_evidence(config=self.config)
        return gather(reported, self._safe(self._target, {}))

    def _sections(self) -> list[dict[str, str]]:
        sections: list[dict[str, str]] = []
        for answer in self.config.hook.pytest_readiness_sections(config=self.config):
            sections.extend(s for s in answer or [] if isinstance(s, dict))
        return sections

    def _summarise(self, session: pytest.Session, exitstatus: int) -> RunSummary:
        self._refresh_redactor()
        now = dt.datetime.now(dt.UTC)
        today = now.date()
        # Both before the run's problems are gathered: a failure in either is one of them.
        self._cap_waivers(today)
        not_applicable = self._safe(self._not_applicable, [])
        judged = self.book.results()
        problems, notes, coverage = self._run_problems(session, exitstatus, judged)
        environment = self._safe(self._target, {}).get("environment")
        results, statuses = apply_waivers(
            judged, self.waivers, now, str(environment) if environment else None
        )
        return self._build(results, statuses, problems, notes, today, coverage, not_applicable)

    def _waiver_max_days(self) -> int:
        answer = self.config.hook.pytest_readiness_waiver_max_days(config=self.config)
        if answer is None:
            return DEFAULT_MAX_DAYS
        if isinstance(answer, bool) or not isinstance(answer, int) or answer < 1:
            raise ValueError(f"the waiver expiry cap {answer!r} is not a number of days")
        return answer

    def _cap_waivers(self, today: dt.date) -> None:
        """A row expiring further ahead than the configuration allows makes the whole
        waiver file invalid, as any other bad row does."""
        if self.waiver_error or not self.waivers:
            return
        max_days = self._safe(self._waiver_max_days, DEFAULT_MAX_DAYS)
        try:
            check_expiry_cap(self.waivers, max_days, today, self.waiver_source)
        except WaiverFileError as exc:
            self.waiver_error = str(exc)
            self.waivers = []

    def _not_applicable(self) -> list[NotApplicableEntry]:
        return entries_from(self.config.hook.pytest_readiness_not_applicable(config=self.config))

    def _build(
        self,
        results: list[Result],
        statuses: list[WaiverStatus],
        problems: list[str],
        notes: list[str],
        today: dt.date,
        coverage: Coverage | None,
        not_applicable: list[NotApplicableEntry] | None = None,
    ) -> RunSummary:
        scrub = self.redactor.scrub
        problems = [scrub(p) for p in problems]
        decision = decide(results, problems)
        return RunSummary(
            decision=decision,
            results=results,
            waivers=statuses,
            target=self.redactor.scrub_obj(self._safe(self._target, {})),
            phase=self.phase,
            run_id=self.run_id,
            started=self.started,
            finished=dt.datetime.now(dt.UTC),
            today=today,
            problems=problems,
            notes=[scrub(n) for n in notes],
            sections=self.redactor.scrub_obj(self._safe(self._sections, [])),
            files={k: self._display(self.out / v) for k, v in FILES.items()},
            coverage=coverage.to_json() if coverage is not None else None,
            not_applicable=list(not_applicable or []),
            evidence=self.redactor.scrub_obj(self._safe(self._evidence, {})),
        )

    def _safe(self, getter: Any, default: Any) -> Any:
        try:
            return getter()
        except Exception as exc:
            self.internal.append(f"a readiness hook failed: {type(exc).__name__}: {exc}")
            return default

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.config.invocation_params.dir))
        except ValueError:
            return str(path)

    def _fallback(self, why: str) -> RunSummary:
        today = dt.datetime.now(dt.UTC).date()
        results = self.book.results()
        coverage = self._safe(lambda: self._coverage(results), None)
        not_applicable = self._safe(self._not_applicable, [])
        return self._build(results, [], [*self.internal, why], [], today, coverage, not_applicable)

    def _write(self, summary: RunSummary) -> None:
        """Each file on its own; verdict.json last, even when another one failed."""
        scrub = self.redactor.scrub
        failures: list[str] = []
        for name in SCRUBBED_DATA:
            try:
                self._scrub_data_file(self.out / name)
            except Exception as exc:
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
        renderers = [("markdown", markdown_out.render), ("junit", junit_out.render)]
        if not self.html_by_pytest_html:
            renderers.append(("html", html_out.page))
        for name, render in renderers:
            try:
                write_atomic(self.out / FILES[name], scrub(render(summary)))
            except Exception as exc:
                failures.append(f"{FILES[name]}: {type(exc).__name__}: {exc}")
        if failures and summary.decision.exit_code != 2:
            raise RuntimeError("; ".join(failures))
        write_json(self.out / FILES["json"], self.redactor.scrub_obj(summary.to_json()))
        if failures:
            raise RuntimeError("; ".join(failures))

    def _scrub_data_file(self, path: Path) -> None:
        """Data other plugins left in the report folder (the inventory snapshot holds
        whatever AWS returned, tag values included) is published too: scrub it in place."""
        if not path.is_file():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        cleaned = self.redactor.scrub_obj(data)
        if cleaned != data:
            write_json(path, cleaned)

    def _print(self, summary: RunSummary) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        width = self.config.get_terminal_writer().fullwidth
        for text, markup in terminal_out.render(summary, width):
            reporter.write_line(self.redactor.scrub(text), **markup)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(
        self, session: pytest.Session, exitstatus: int
    ) -> Generator[None, None, None]:
        if not self.controller:
            output = getattr(self.config, "workeroutput", None)
            if isinstance(output, dict):
                output[WORKER_KEY] = list(self.internal)
            return (yield)
        try:
            summary = self._summarise(session, exitstatus)
        except Exception as exc:
            summary = self._fallback(f"verdict plugin failed: {type(exc).__name__}: {exc}")
        self.summary = summary
        write_error = self._try_write(summary)
        try:
            yield
        except Exception as exc:
            # Another plugin (pytest-html writing its file, say) broke: that is NO-GO.
            summary = self._fallback(f"a reporting plugin failed: {type(exc).__name__}: {exc}")
            self.summary = summary
            write_error = self._try_write(summary)
        sealing_error = self._seal_files()
        write_error = write_error or sealing_error
        if write_error:
            summary = self._fallback(write_error)
            self.summary = summary
            self._try_write(summary)
        with contextlib.suppress(Exception):  # best effort: the files hold the verdict
            self._print(summary)
        session.exitstatus = summary.decision.exit_code
        return None

    def _seal_files(self) -> str | None:
        """What other plugins wrote while the session finished: the API-call ledgers are
        scrubbed (or removed when they cannot be); they and pytest-html's page made 0600."""
        problems: list[str] = []
        for name in LATE_DATA:
            try:
                self._scrub_data_file(self.out / name)
                make_private(self.out / name)
            except Exception as exc:
                (self.out / name).unlink(missing_ok=True)
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
        try:
            make_private(self.out / FILES["html"])
        except OSError as exc:
            problems.append(f"{FILES['html']}: {type(exc).__name__}: {exc}")
        return f"cannot seal the reports in {self.out}: {'; '.join(problems)}" if problems else None

    def _try_write(self, summary: RunSummary) -> str | None:
        try:
            self._write(summary)
        except Exception as exc:
            return f"cannot write the reports in {self.out}: {type(exc).__name__}: {exc}"
        return None

    # -- pytest-timeout's thread method -------------------------------------------------

    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings: Any) -> bool | None:
        """pytest-timeout's thread method ends the process with `os._exit(1)`, which no
        hook outlives. In a single process, end it here instead: the timed-out check as
        an error, verdict.json as a finished NO-GO, the verdict block, then exit 2, the
        same verdict xdist gives for the crashed worker. Workers keep the default."""
        method = str(getattr(settings, "method", ""))
        on_main = threading.current_thread() is threading.main_thread()
        if not self.controller or not (method == "thread" or (method == "signal" and not on_main)):
            return None
        timeout = float(settings.timeout)
        timer = threading.Timer(timeout, self._timed_out, (item, timeout))
        timer.name = f"readiness-timeout {item.nodeid}"
        timer.daemon = True

        def cancel() -> None:
            timer.cancel()
            if threading.current_thread() is not timer:
                timer.join()

        item.cancel_timeout = cancel  # type: ignore[attr-defined]  # pytest-timeout's slot
        timer.start()
        return True

    def _timed_out(self, item: pytest.Item, timeout: float) -> None:
        try:
            why = f"timeout: {item.nodeid} ran longer than {timeout:g} s; the run was ended"
            self.book.crash(item.nodeid, tag_of(list(item.user_properties)), why)
            summary = self._fallback(why)
            self.summary = summary
            self._try_write(summary)
            capman = self.config.pluginmanager.get_plugin("capturemanager")
            if capman is not None:
                capman.suspend_global_capture(in_=True)
            self._print(summary)
        except BaseException:  # the process ends below whatever happened
            pass
        finally:
            with contextlib.suppress(BaseException):
                self.config.get_terminal_writer().flush()
            os._exit(2)

    # -- pytest-html ---------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = "Readiness report"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        if self.summary is not None:
            prefix.append(self.redactor.scrub(html_out.render(self.summary)))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, "<th>Outcome</th>")
        cells.insert(2, "<th>Severity</th>")
        cells.insert(3, "<th>Check</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        tag = tag_of(list(getattr(report, "user_properties", []))) or {}
        check = tag.get("check", {}) if isinstance(tag.get("check"), dict) else {}
        cells.insert(1, f"<td>{escape(report_outcome(report).value)}</td>")
        cells.insert(2, f"<td>{escape(str(tag.get('severity', 'critical')))}</td>")
        cells.insert(3, f"<td>{escape(str(check.get('id', '(unknown)')))}</td>")
