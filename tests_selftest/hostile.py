"""A copy of the project to attack: the real checks, catalogue and configuration, plus
one planted check module a hostile run can make skip itself.

The planted module holds one critical check that fails unless PLANTED_PASS=1, and
skips itself at collection when PLANTED_SKIP is `skip` or `importorskip`: the shape of a
module that imports a package CI does not have.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy_steps import cli

from .conftest import REPO, write_catalogue

STACKS = {"local": "demo", "local-risky": "demo-risky", "local-broken": "demo-broken"}
PLANTED = "checks/audit/operations/test_planted.py"
PLANTED_ID = "planted-critical"
PLANTED_SOURCE = '''"""A planted check: fails unless PLANTED_PASS=1; may skip itself."""

import os

import pytest

if os.environ.get("PLANTED_SKIP") == "skip":
    pytest.skip("planted: this module skips itself", allow_module_level=True)
if os.environ.get("PLANTED_SKIP") == "importorskip":
    pytest.importorskip("readiness_module_that_ci_does_not_have")

pytestmark = [pytest.mark.audit, pytest.mark.critical]


@pytest.mark.check(
    id="planted-critical",
    title="A planted critical check",
    category="operations",
    risk="Planted to fail.",
    remediation="Set PLANTED_PASS=1.",
)
def test_planted_critical():
    assert os.environ.get("PLANTED_PASS") == "1", "planted critical failure"
'''


def copy_project(target: Path) -> Path:
    """The project's suite (checks, catalogue, configuration) with the planted module;
    the packages are the installed ones."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "conftest.py", "readiness.toml", "waivers.toml"):
        shutil.copy2(REPO / name, target / name)
    (target / "docs").mkdir(exist_ok=True)
    shutil.copy2(REPO / "docs" / "runbook.md", target / "docs" / "runbook.md")
    shutil.copytree(
        REPO / "checks", target / "checks", ignore=shutil.ignore_patterns("__pycache__")
    )
    (target / PLANTED).write_text(PLANTED_SOURCE, encoding="utf-8")
    write_catalogue(target, "checks")
    return target


@dataclass
class GateRun:
    code: int
    stderr: str
    out: Path

    def text(self, name: str) -> str:
        path = self.out / name
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    @property
    def verdict(self) -> dict[str, Any]:
        text = self.text("verdict.json")
        return dict(json.loads(text)) if text else {}


RunGate = Callable[..., GateRun]


def gate(
    project: Path,
    out: Path,
    phase: str,
    env: str,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environ: dict[str, str] | None = None,
) -> GateRun:
    """`readiness gate PHASE --env ENV ARGS` as CI runs it, from the project copy."""
    with monkeypatch.context() as m:
        m.chdir(project)
        for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
            m.delenv(name, raising=False)
        for name, value in (environ or {}).items():
            m.setenv(name, value)
        capsys.readouterr()
        code = cli.main(["gate", phase, "--env", env, f"--report-dir={out}", *args])
        captured = capsys.readouterr()
    return GateRun(code, captured.err, out)
