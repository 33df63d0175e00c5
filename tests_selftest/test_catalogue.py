"""The check catalogue: docs/checks.md is generated from the checks' metadata and kept
current; every check has a unique id, a risk and a remediation.

The check modules are read in a child process, as `python -m readiness.catalogue` reads
them: in this session their markers are unknown (the selftests run with strict markers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from readiness import catalogue

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
