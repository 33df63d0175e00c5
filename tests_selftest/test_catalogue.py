"""The check catalogue: docs/checks.md is generated from the checks' metadata and kept
current; every check has a unique id, a risk and a remediation.

The check modules are read in a child process, as `python -m readiness.catalogue` reads
them: in this session their markers are unknown (the selftests run with strict markers).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from readiness import catalogue
from reports import coverage
from reports.outcomes import CheckMeta, Outcome, Result, Severity

from .conftest import REPO


@pytest.fixture(scope="module")
def checks() -> list[catalogue.CheckInfo]:
    listed = subprocess.run(
        [sys.executable, "-m", "readiness.catalogue", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [catalogue.from_json(row) for row in json.loads(listed.stdout)]


def test_docs_checks_md_is_current(checks: list[catalogue.CheckInfo]) -> None:
    current = (REPO / catalogue.OUTPUT).read_text(encoding="utf-8")
    assert current == catalogue.render(checks), (
        f"{catalogue.OUTPUT} is stale: regenerate it with `{catalogue.REGENERATE}` and commit it"
    )


def test_every_check_has_a_unique_id_risk_and_remediation(
    checks: list[catalogue.CheckInfo],
) -> None:
    assert len(checks) >= 45
    assert catalogue.problems(checks) == []


def test_problems_are_named() -> None:
    def info(check_id: str, function: str, **extra: str) -> catalogue.CheckInfo:
        fields = {"risk": "r", "remediation": "m", **extra}
        return catalogue.CheckInfo(
            id=check_id,
            title="t",
            category="cost",
            severity="warning",
            phases=("audit",),
            file="checks/audit/x.py",
            function=function,
            **fields,
        )

    found = catalogue.problems([info("a", "test_a"), info("a", "test_b", risk="")])
    assert found == [
        "checks/audit/x.py::test_b: check id 'a' is also used by checks/audit/x.py::test_a",
        "checks/audit/x.py::test_b: check 'a' has no risk",
    ]


def test_catalogue_lists_every_check_module(checks: list[catalogue.CheckInfo]) -> None:
    files = {c.file for c in checks}
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "checks").rglob("test_*.py")}
    assert files == modules
    assert {"alarm-actions-notify", "cost-forecast-under-limit", "runbook-configured"} <= {
        c.id for c in checks
    }


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    (tmp_path / "checks" / "audit").mkdir(parents=True)
    (tmp_path / "checks" / "audit" / "test_one.py").write_text(
        "import pytest\n\npytestmark = [pytest.mark.audit, pytest.mark.warning]\n\n\n"
        "@pytest.mark.check(id='one', title='One', category='cost', risk='r', "
        "remediation='m')\ndef test_one() -> None:\n    pass\n"
    )
    command = [sys.executable, "-m", "readiness.catalogue", f"--root={tmp_path}"]
    stale = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert stale.returncode == 1
    assert "run `python -m readiness.catalogue`" in stale.stderr
    written = subprocess.run(command, capture_output=True, text=True, check=False)
    assert written.returncode == 0, written.stderr
    assert "`one`" in (tmp_path / "docs" / "checks.md").read_text()
    fresh = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert fresh.returncode == 0
    listed = json.loads((tmp_path / "checks" / "catalogue.json").read_text())
    assert listed["checks"] == [
        {
            "id": "one",
            "phase": "audit",
            "severity": "warning",
            "category": "cost",
            "node": "checks/audit/test_one.py::test_one",
        }
    ]
    (tmp_path / "checks" / "audit" / "test_one.py").write_text(
        (tmp_path / "checks" / "audit" / "test_one.py").read_text().replace("warning", "critical")
    )
    changed = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert changed.returncode == 1
    assert "checks/catalogue.json is stale" in changed.stderr


def test_checks_catalogue_json_is_current(checks: list[catalogue.CheckInfo]) -> None:
    """The file every run is compared with is the one the checks say, and the verdict
    plugin reads it where the generator writes it."""
    current = (REPO / catalogue.JSON_OUTPUT).read_text(encoding="utf-8")
    assert current == catalogue.render_json(checks), (
        f"{catalogue.JSON_OUTPUT} is stale: regenerate it with `{catalogue.REGENERATE}`"
    )
    assert coverage.CATALOGUE == catalogue.JSON_OUTPUT
    loaded = coverage.load_catalogue(REPO / coverage.CATALOGUE)
    assert len(loaded.of_phase("audit")) == sum(c.phases == ("audit",) for c in checks) >= 60


@pytest.mark.parametrize(
    "planted",
    [
        "pytest.skip('not here', allow_module_level=True)\n",
        "pytest.importorskip('readiness_module_nobody_has')\n",
        "raise ImportError('boom')\n",
    ],
    ids=["skip", "importorskip", "import-error"],
)
def test_a_module_that_cannot_be_read_stops_the_catalogue(tmp_path: Path, planted: str) -> None:
    """A module that skips itself on import cannot be listed: the generator says which,
    and writes nothing, rather than leave its checks out of the catalogue."""
    (tmp_path / "checks" / "audit").mkdir(parents=True)
    (tmp_path / "checks" / "audit" / "test_skips.py").write_text(
        "import pytest\n\n" + planted + "pytestmark = [pytest.mark.audit, pytest.mark.warning]\n"
    )
    command = [sys.executable, "-m", "readiness.catalogue", f"--root={tmp_path}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "checks/audit/test_skips.py: cannot be read" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "checks" / "catalogue.json").exists()


# -- the comparison of a run with its phase's catalogue ------------------------------


def _catalogue(tmp_path: Path) -> coverage.Catalogue:
    rows = [
        {
            "id": "a",
            "phase": "audit",
            "severity": "critical",
            "category": "cost",
            "node": "c/t.py::test_a",
        },
        {
            "id": "b",
            "phase": "audit",
            "severity": "warning",
            "category": "cost",
            "node": "c/t.py::test_b",
        },
        {
            "id": "p",
            "phase": "preflight",
            "severity": "critical",
            "category": "preflight",
            "node": "c/p.py::test_p",
        },
    ]
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({"schema_version": 1, "checks": rows}))
    return coverage.load_catalogue(path)


def _result(node: str, check_id: str, severity: str = "critical") -> Result:
    return Result(
        nodeid=node,
        check=CheckMeta(id=check_id, title=check_id, category="cost"),
        severity=Severity(severity),
        outcome=Outcome.PASSED,
    )


def test_a_run_is_complete_only_with_every_check_of_its_phase(tmp_path: Path) -> None:
    cat = _catalogue(tmp_path)
    whole = coverage.measure(
        cat,
        "audit",
        [_result("c/t.py::test_a[r1]", "a"), _result("c/t.py::test_b", "b", "warning")],
    )
    assert whole.complete and whole.partial_reason() is None
    part = coverage.measure(cat, "audit", [_result("c/t.py::test_a[r1]", "a")])
    assert not part.complete and part.not_judged == ["b"] and part.judged == ["a"]
    assert part.partial_reason() == "1 of 2 checks of phase audit were not judged: b"
    assert coverage.measure(cat, "audit", []).judged == []


@pytest.mark.parametrize(
    ("result", "says"),
    [
        (("c/x.py::test_a", "a"), "is not in checks/catalogue.json (catalogued at c/t.py::test_a)"),
        (("c/t.py::test_a", "z"), "ran as check 'z' but is catalogued as 'a'"),
        (("c/t.py::test_b", "b", "critical"), "ran as critical but is catalogued as warning"),
        (("c/p.py::test_p", "p"), "1 checks of another phase ran in this run of phase audit: p"),
    ],
    ids=["elsewhere", "renamed", "severity", "other-phase"],
)
def test_results_that_contradict_the_catalogue_are_problems(
    tmp_path: Path, result: tuple[str, ...], says: str
) -> None:
    cat = _catalogue(tmp_path)
    measured = coverage.measure(
        cat,
        "audit",
        [
            _result("c/t.py::test_a", "a"),
            _result("c/t.py::test_b", "b", "warning"),
            _result(*result),
        ],
    )
    assert not measured.complete
    assert any(says in m for m in measured.mismatches), measured.mismatches


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (None, "cannot be read"),
        ("{", "not valid JSON"),
        ('{"schema_version": 2, "checks": []}', "not a check catalogue of schema 1"),
        ('{"schema_version": 1, "checks": []}', "lists no check"),
        (
            '{"schema_version": 1, "checks": [{"id": "a"}]}',
            "check 1 lacks id, phase, severity or node",
        ),
        (
            '{"schema_version": 1, "checks": [{"id": "a", "phase": "x", '
            '"severity": "critical", "node": "n"}]}',
            "has phase 'x'",
        ),
    ],
)
def test_an_unreadable_catalogue_is_one_clear_line(
    tmp_path: Path, text: str | None, says: str
) -> None:
    path = tmp_path / "catalogue.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(coverage.CatalogueError, match=re.escape(says)):
        coverage.load_catalogue(path)
