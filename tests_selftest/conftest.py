"""Shared fixtures of the selftests: the repository, a running emulator, a way to run
the real suite in a child process and find what it left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from readiness.emulator import EmulatorProcess

REPO = Path(__file__).resolve().parents[1]


@dataclass
class SuiteRun:
    returncode: int
    stdout: str
    stderr: str
    out: Path

    def json(self, name: str) -> Any:
        return json.loads((self.out / name).read_text())

    @property
    def verdict(self) -> dict[str, Any]:
        return dict(self.json("verdict.json"))


def run_suite(
    args: list[str],
    out: Path,
    *,
    attach: EmulatorProcess | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> SuiteRun:
    """Run the project's own pytest (the gate) in a child process, from the repo root."""
    child_env = dict(os.environ)
    child_env.pop("PYTEST_XDIST_WORKER", None)
    child_env.pop("PYTEST_ADDOPTS", None)
    if attach is not None:
        child_env.update(attach.attach_environment())
    child_env.update(env or {})
    # Path options take the `--opt=value` form: pytest picks the rootdir before it knows
    # plugin options, and a separate existing path would be taken for a test path.
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--report-dir={out}"]
    completed = subprocess.run(
        command + args,
        cwd=REPO,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return SuiteRun(completed.returncode, completed.stdout, completed.stderr, out)


def write_catalogue(root: Path, folder: str = ".") -> Path:
    """checks/catalogue.json for a small suite under `root` (a pytester project), read
    from its checks as `python -m readiness.catalogue` reads the project's own: the
    verdict plugin compares every run with it."""
    from readiness import catalogue

    target = root / catalogue.JSON_OUTPUT
    target.parent.mkdir(parents=True, exist_ok=True)
    checks = catalogue.collect(root, folder, skip_unreadable=True)
    target.write_text(catalogue.render_json(checks), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def demo_audit(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], SuiteRun]:
    """`pytest -m audit --env ENV` on a demo stack, run once per environment and worker
    and shared by every area's stack test (each run starts an emulator and seeds it)."""
    runs: dict[str, SuiteRun] = {}

    def audit(env: str) -> SuiteRun:
        if env not in runs:
            runs[env] = run_suite(["-m", "audit", "--env", env], tmp_path_factory.mktemp(env))
        return runs[env]

    return audit


def area_results(run: SuiteRun, critical: set[str], warning: set[str]) -> list[dict[str, Any]]:
    """One area's results, once every one of its checks is there with its severity and
    every failure names its resource."""
    results = [r for r in run.verdict["results"] if r["check_id"] in critical | warning]
    assert {r["check_id"] for r in results} == critical | warning, run.stdout[-3000:]
    for r in results:
        assert r["severity"] == ("critical" if r["check_id"] in critical else "warning")
        if r["outcome"] == "failed":
            assert r["resource"] in r["message"], r
    return results


def assert_reads_once_and_only_reads(run: SuiteRun) -> None:
    calls = run.json("api-calls.json")
    assert calls["total_calls"] == calls["distinct_requests"], calls["repeated_requests"]
    assert calls["mutating_calls"] == []


def processes_marked(mark: str) -> list[int]:
    """Live processes whose environment carries READINESS_TEST_MARK=mark."""
    found = []
    needle = f"READINESS_TEST_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().split(")")[-1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture
def test_mark() -> str:
    return uuid.uuid4().hex


@pytest.fixture(scope="module")
def demo_emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("demo") as emulator:
        yield emulator
