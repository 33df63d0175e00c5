"""The verdict table of DESIGN.md, row by row, through the real plugin.

Each case is a tiny suite (a conftest that loads `reports.plugin`, a few checks) run by
pytester twice: in one process and with `-n 2`. Both runs must give the expected verdict,
the same exit code and the same verdict.json (verdict, counts, results and waivers). Where
the run cannot survive in one process (a crash), the single-process run is judged the way
CI judges it: by the gate's rule, exit code against verdict.json.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from deploy_steps.gate import judge

from .conftest import write_catalogue

RUN_ID = "tablerun0001"
GO, CONDITIONAL, NO_GO = 0, 1, 2

CONFTEST = """
pytest_plugins = ["reports.plugin"]


def pytest_readiness_target(config):
    return {
        "environment": "tabletest",
        "account": "000000000000",
        "regions": ["us-east-1", "us-west-2"],
        "endpoint": "http://127.0.0.1:9",
        "emulated": True,
        "seed": "none",
    }
"""
PLUGIN_FAULT = """
import reports.tally


def _broken(self, report):
    raise RuntimeError("planted fault in the verdict plugin")


reports.tally.ResultBook.add = _broken
"""
INI = "[pytest]\nreadiness_gate = true\ntimeout = 60\ntimeout_method = signal\n"
HEAD = "import os, time\nimport pytest\n\npytestmark = [pytest.mark.audit]\n"


def check(
    name: str, body: str = "pass", severity: str = "critical", *, deco: str = "", args: str = ""
) -> str:
    """The source of one check: metadata, one severity marker, a body."""
    marks = f"@pytest.mark.{severity}\n" if severity else ""
    return (
        f"\n\n{deco}{marks}"
        f'@pytest.mark.check(id="t-{name.replace("_", "-")}", title="{name}", '
        f'category="security", remediation="fix {name}")\n'
        f"def test_{name}({args}):\n    {body}\n"
    )


PASS = HEAD + check("pass")
SLEEP = "time.sleep(20)"
# Within the waiver expiry cap (365 days by default), whatever day the tests run.
FUTURE = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=90)).isoformat()
PAST = "2000-01-01"


def waiver(check_id: str, expires: str = FUTURE, resource: str | None = None) -> str:
    where = f'resource = "{resource}"\n' if resource else ""
    return (
        f'[[waiver]]\ncheck = "{check_id}"\n{where}reason = "accepted for the test"\n'
        f'owner = "team-a"\nexpires = {expires}\n\n'
    )


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]
    verdict: int
    args: tuple[str, ...] = ()
    problem: str = ""  # text that must appear in verdict.json's problems
    shown: str = ""  # text that must appear in the terminal output
    waivers: str | None = None
    dies_alone: bool = False  # the single process ends itself: judge it like CI does
    subprocess: bool = False  # patches modules: keep it out of this process
    same_results: bool = True
    waiver_states: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("all passed", {"test_a.py": PASS + check("other", severity="warning")}, GO),
    Case("warning failed", {"test_a.py": PASS + check("w", "assert 0, 'w'", "warning")}, 1),
    Case("critical failed", {"test_a.py": PASS + check("c", "assert 0, 'c broke'")}, NO_GO),
    Case(
        "error in a warning check",
        {"test_a.py": PASS + check("e", "raise KeyError('boom')", "warning")},
        NO_GO,
    ),
    Case(
        "error in a fixture",
        {
            "test_a.py": PASS
            + "\n\n@pytest.fixture\ndef broken():\n    raise RuntimeError('setup')\n"
            + check("f", severity="warning", args="broken")
        },
        NO_GO,
    ),
    Case(
        "error in a teardown",
        {
            "test_a.py": PASS
            + "\n\n@pytest.fixture\ndef broken():\n    yield\n    raise RuntimeError('td')\n"
            + check("t", severity="warning", args="broken")
        },
        NO_GO,
    ),
    Case(
        "not-evaluated critical",
        {"test_a.py": PASS + check("ne", "pytest.skip('not-evaluated: AccessDenied')")},
        NO_GO,
    ),
    Case(
        "not-evaluated warning",
        {"test_a.py": PASS + check("ne", "pytest.skip('not-evaluated: x')", "warning")},
        CONDITIONAL,
    ),
    Case(
        "not-applicable",
        {"test_a.py": PASS + check("na", "pytest.skip('not-applicable: no queue in scope')")},
        GO,
    ),
    Case("a plain skip", {"test_a.py": PASS + check("s", "pytest.skip('later')")}, NO_GO),
    Case(
        "xfail",
        {"test_a.py": PASS + check("x", "assert 0", "warning", deco="@pytest.mark.xfail\n")},
        NO_GO,
    ),
    Case(
        "timeout, signal method",
        {"test_a.py": PASS + check("slow", SLEEP, "warning", deco="@pytest.mark.timeout(1)\n")},
        NO_GO,
    ),
    Case(
        "timeout, thread method",
        {
            "test_a.py": PASS,
            "test_b.py": HEAD
            + check("slow", SLEEP, "warning", deco="@pytest.mark.timeout(1, method='thread')\n"),
        },
        NO_GO,
        subprocess=True,
    ),
    Case(
        "collection error",
        {"test_a.py": PASS, "test_b.py": "import no_such_module_here\n"},
        NO_GO,
        problem="collection error",
        same_results=False,
    ),
    Case(
        "crashed worker",
        {"test_a.py": PASS, "test_b.py": HEAD + check("crash", "os._exit(3)", "warning")},
        NO_GO,
        dies_alone=True,
    ),
    Case(
        "interrupted",
        {"test_a.py": PASS + check("ki", "raise KeyboardInterrupt", "warning")},
        NO_GO,
        problem="interrupted",
        subprocess=True,  # the KeyboardInterrupt would end this process too
        same_results=False,
    ),
    Case("zero tests", {"test_a.py": HEAD}, NO_GO, problem="no check ran"),
    Case(
        "partial: -k",
        {"test_a.py": PASS + check("c", "assert 0")},
        NO_GO,
        args=("-k", "pass"),
        problem="partial run",
    ),
    Case(
        "partial: -k with --allow-partial",
        {"test_a.py": PASS + check("c", "assert 0")},
        GO,
        args=("-k", "pass", "--allow-partial"),
    ),
    Case(
        "partial: --deselect",
        {"test_a.py": PASS + check("c", "assert 0")},
        NO_GO,
        args=("--deselect", "test_a.py::test_c"),
        problem="--deselect",
    ),
    Case(
        "partial: --lf",
        {"test_a.py": PASS + check("c", "assert 0")},
        NO_GO,
        args=("--lf",),
        problem="--lf",
    ),
    Case(
        "partial: a node id",
        {"test_a.py": PASS + check("c", "assert 0")},
        NO_GO,
        args=("test_a.py::test_pass",),
        problem="node id",
    ),
    Case(
        "partial: -x stops early",
        {"test_a.py": PASS + check("c", "assert 0", "warning") + check("d", "pass", "warning")},
        NO_GO,
        args=("-x",),
        same_results=False,
    ),
    Case(
        "broken config",
        {
            "conftest.py": 'pytest_plugins = ["reports.plugin", "readiness.pytest_plugin"]\n',
            "readiness.toml": 'default = "x"\n[environments.x\n',
            "test_a.py": PASS,
        },
        NO_GO,
        problem="readiness.toml: not valid TOML",
    ),
    Case(
        "broken waiver file",
        {"test_a.py": PASS},
        NO_GO,
        waivers='[[waiver]]\ncheck = "t-pass"\nowner = "a"\nreason = "r"\n',
        problem="waiver #1 (check 't-pass'): field 'expires'",
    ),
    Case(
        "exception inside the plugin",
        {"test_a.py": PASS, "conftest.py": CONFTEST + PLUGIN_FAULT},
        NO_GO,
        problem="planted fault",
        subprocess=True,
        same_results=False,
    ),
    Case(
        "a check with no severity",
        {"test_a.py": PASS + check("nosev", severity="")},
        NO_GO,
        shown="no severity marker",
        problem="no severity marker",
    ),
    Case(
        "a check with two severities",
        {"test_a.py": PASS + check("two", deco="@pytest.mark.warning\n")},
        NO_GO,
        shown="both critical and warning",
        problem="both critical and warning",
    ),
    Case(
        "the function's severity overrides the module's",
        {
            "test_a.py": "import pytest\n\npytestmark = [pytest.mark.audit, pytest.mark.critical]"
            + check("w", "assert 0", "warning")
        },
        CONDITIONAL,
    ),
    Case(
        "waived warning",
        {"test_a.py": PASS + check("w", "assert 0", "warning")},
        GO,
        waivers=waiver("t-w"),
        waiver_states={"t-w": "applied"},
    ),
    Case(
        "waived critical",
        {"test_a.py": PASS + check("c", "assert 0")},
        CONDITIONAL,
        waivers=waiver("t-c"),
        waiver_states={"t-c": "applied"},
    ),
    Case(
        "expired waiver",
        {"test_a.py": PASS + check("w", "assert 0", "warning")},
        CONDITIONAL,
        waivers=waiver("t-w", PAST),
        waiver_states={"t-w": "expired"},
    ),
    Case(
        "stale waiver",
        {"test_a.py": PASS},
        GO,
        waivers=waiver("t-gone"),
        waiver_states={"t-gone": "stale"},
    ),
    Case(
        "a waiver does not cover an error",
        {"test_a.py": PASS + check("e", "raise KeyError('x')", "warning")},
        NO_GO,
        waivers=waiver("t-e"),
        waiver_states={"t-e": "stale"},
    ),
]


@dataclass
class Run:
    code: int
    gate: int
    verdict: dict[str, Any]
    stdout: str


def _run(pytester: pytest.Pytester, case: Case, xdist: bool) -> Run:
    args = [*case.args, "-p", "no:randomly"] + (["-n", "2"] if xdist else [])
    if case.subprocess or (case.dies_alone and not xdist) or "thread" in case.name:
        outcome = pytester.runpytest_subprocess(*args, timeout=120)
    else:
        outcome = pytester.runpytest_inprocess(*args)
    code = int(outcome.ret)
    path = pytester.path / "out" / "verdict.json"
    verdict = json.loads(path.read_text())
    gate = judge(code, path, RUN_ID).exit_code
    return Run(code, gate, verdict, outcome.stdout.str())


def _shape(verdict: dict[str, Any], with_results: bool) -> dict[str, Any]:
    shape: dict[str, Any] = {
        "verdict": verdict["verdict"],
        "exit_code": verdict["exit_code"],
        "complete": verdict["complete"],
        "waivers": sorted((w["check_id"], w["state"]) for w in verdict.get("waivers", [])),
    }
    if with_results:
        shape["counts"] = verdict["counts"]
        shape["results"] = sorted(
            (r["check_id"], r["resource"], r["severity"], r["outcome"]) for r in verdict["results"]
        )
    return shape


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdict_table(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("READINESS_RUN_ID", RUN_ID)
    pytester.makeini(INI)
    files = {"conftest.py": CONFTEST, **case.files}
    for name, text in files.items():
        (pytester.path / name).write_text(text)
    if case.waivers is not None:
        (pytester.path / "waivers.toml").write_text(case.waivers)
    write_catalogue(pytester.path)
    if "--lf" in case.args:  # a previous full run leaves a last-failed list
        pytester.runpytest_inprocess("-p", "no:randomly")

    runs = {mode: _run(pytester, case, mode == "xdist") for mode in ("alone", "xdist")}

    for mode, run in runs.items():
        where = f"{mode}: {run.stdout[-3000:]}"
        assert run.gate == case.verdict, where
        if mode == "xdist" or not case.dies_alone:
            assert run.code == case.verdict, where
            assert run.verdict["complete"] is True, where
            assert run.verdict["exit_code"] == case.verdict, where
        if case.problem:
            assert any(case.problem in p for p in run.verdict.get("problems", [])), where
        if case.shown:
            assert case.shown in run.stdout, where
        if not (case.dies_alone and mode == "alone"):
            assert "READINESS VERDICT" in run.stdout, where
            states = {w["check_id"]: w["state"] for w in run.verdict["waivers"]}
            assert states == case.waiver_states, where
    alone, xdist = runs["alone"], runs["xdist"]
    if case.dies_alone:
        assert alone.verdict["verdict"] == "NO_GO" and alone.verdict["complete"] is False
    else:
        assert alone.code == xdist.code
        assert _shape(alone.verdict, case.same_results) == _shape(xdist.verdict, case.same_results)
