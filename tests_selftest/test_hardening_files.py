"""Every file the run writes in the report folder is 0600 and every folder it creates
0700, whatever the umask: the shared writers on their own, then a real audit run."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import readiness.files
import reports.files

from .conftest import REPO

WRITERS = [reports.files, readiness.files]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o277], ids=["umask-022", "umask-277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(int(request.param))
    try:
        yield int(request.param)
    finally:
        os.umask(old)


@pytest.mark.parametrize("writer", WRITERS, ids=lambda m: m.__name__)
def test_written_files_are_0600_and_created_folders_0700(
    writer: ModuleType, umask: int, tmp_path: Path
) -> None:
    target = tmp_path / "made" / "here" / "verdict.json"
    writer.write_json(target, {"verdict": "GO"})
    writer.write_atomic(target.with_name("summary.md"), "GO\n")
    assert json.loads(target.read_text()) == {"verdict": "GO"}
    assert mode(target) == 0o600
    assert mode(target.with_name("summary.md")) == 0o600
    assert mode(tmp_path / "made") == 0o700
    assert mode(tmp_path / "made" / "here") == 0o700
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("writer", WRITERS, ids=lambda m: m.__name__)
def test_a_file_replaced_becomes_private_and_a_chosen_folder_keeps_its_mode(
    writer: ModuleType, tmp_path: Path
) -> None:
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    chosen.chmod(0o755)
    old = chosen / "inventory.json"
    old.write_text("{}")
    old.chmod(0o644)
    writer.write_json(old, {"resources": []})
    assert mode(old) == 0o600
    assert mode(chosen) == 0o755  # someone else's folder: not ours to change


def test_a_file_another_program_wrote_is_made_private(tmp_path: Path) -> None:
    page = tmp_path / "readiness.html"
    page.write_text("<html></html>")
    page.chmod(0o644)
    reports.files.make_private(page)
    assert mode(page) == 0o600
    reports.files.make_private(tmp_path / "absent.html")  # nothing there: nothing to do


def test_a_file_where_a_folder_should_be_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(OSError):
        reports.files.write_json(tmp_path / "out" / "verdict.json", {})


@pytest.mark.slow
def test_every_file_of_a_real_audit_is_private(tmp_path: Path) -> None:
    """A permissive umask (022) in the child: the modes come from the code, not from it."""
    out = tmp_path / "reports" / "nested" / "out"
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS")
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--report-dir={out}"]
        + ["-m", "audit", "--env", "local"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        umask=0o022,
    )
    verdict: dict[str, Any] = json.loads((out / "verdict.json").read_text())
    assert verdict["complete"] is True, done.stdout[-3000:]
    names = {p.name for p in out.iterdir()}
    for written in ("verdict.json", "summary.md", "junit.xml", "readiness.html", "inventory.json"):
        assert written in names
    assert "api-calls.json" in names
    files = {str(p.relative_to(out)): mode(p) for p in out.rglob("*") if p.is_file()}
    folders = {str(p.relative_to(tmp_path)): mode(p) for p in out.rglob("*") if p.is_dir()}
    for created in (tmp_path / "reports", tmp_path / "reports" / "nested", out):
        folders[str(created.relative_to(tmp_path))] = mode(created)
    assert {name: oct(m) for name, m in files.items() if m != 0o600} == {}
    assert {name: oct(m) for name, m in folders.items() if m != 0o700} == {}
