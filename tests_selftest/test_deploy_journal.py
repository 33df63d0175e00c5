"""The deploy journal on disk, and `readiness rollback` on journals it cannot use:
one clear message and exit 2, never a traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy_steps.journal import Journal, JournalError, JournalLock
from deploy_steps.plugin import explicitly_deploys

from .conftest import REPO


def rollback_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy_steps.cli", "rollback", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_every_step_is_on_disk_before_the_call_returns(tmp_path: Path) -> None:
    path = tmp_path / "deploy-journal.json"
    journal = Journal.create(path, environment="local", config_path="readiness.toml")
    assert json.loads(path.read_text())["status"] == "deploying"
    index = journal.plan_step("services", "ttl", {"table": "t"}, {"status": "DISABLED"}, {"x": 1})
    on_disk = json.loads(path.read_text())["steps"][index]
    assert on_disk["state"] == "planned" and on_disk["before"] == {"status": "DISABLED"}
    journal.step_applied(index, {"status": "ENABLED"})
    assert Journal.load(path).steps[index]["after"] == {"status": "ENABLED"}
    journal.set_terraform(serial_before=None, serial_after=3)
    assert Journal.load(path).data["terraform"]["serial_after"] == 3
    assert not list(tmp_path.glob(".deploy-journal.json.*"))  # no temporary file left


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a deploy journal"),
        ('{"version": 99}', "journal version 99"),
        ('{"version": 1, "environment": "local", "status": "deploying"}', "'steps'"),
        (
            '{"version": 1, "environment": "local", "status": "deploying", "steps": [7]}',
            "step 1 is not an object",
        ),
        ('{"version": 1, "environment": "local", "status": "odd", "steps": []}', "odd"),
    ],
)
def test_malformed_journal_is_one_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "deploy-journal.json"
    path.write_text(content)
    with pytest.raises(JournalError, match=message):
        Journal.load(path)
    done = rollback_cli(f"--journal={path}")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert path.read_text() == content  # nothing written


def test_missing_journal_exits_2(tmp_path: Path) -> None:
    done = rollback_cli("--journal", str(tmp_path / "nope.json"), "--dry-run")
    assert done.returncode == 2
    assert "no such journal" in done.stderr and "Traceback" not in done.stderr


def test_a_journal_in_use_is_refused_naming_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "deploy-journal.json"
    Journal.create(path, environment="local", config_path="readiness.toml")
    before = path.read_text()
    with JournalLock(path).acquire("a deploy of local"):
        with pytest.raises(JournalError, match=r"in use by a deploy of local \(pid \d+\)"):
            JournalLock(path).acquire("readiness rollback")
        done = rollback_cli(f"--journal={path}")
        assert done.returncode == 2, done.stdout + done.stderr
        assert "in use by a deploy of local" in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert path.read_text() == before  # nothing reverted, nothing written
    JournalLock(path).acquire("readiness rollback").release()  # free again once released


def test_a_killed_holder_does_not_block_the_recovery(tmp_path: Path) -> None:
    path = tmp_path / "deploy-journal.json"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from deploy_steps.journal import JournalLock\n"
            f"JournalLock(Path({str(path)!r})).acquire('a deploy of local')\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(JournalError, match="in use"):
        JournalLock(path).acquire("readiness rollback")
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    JournalLock(path).acquire("readiness rollback").release()


@pytest.mark.parametrize(
    ("markexpr", "writes"),
    [
        ("deploy", True),
        (" deploy ", True),
        ("", False),
        ("audit", False),
        ("audit or deploy", False),
        ("not deploy", False),
        ("deploy and critical", False),
    ],
)
def test_only_exactly_deploy_may_write(markexpr: str, writes: bool) -> None:
    config = SimpleNamespace(option=SimpleNamespace(markexpr=markexpr))
    assert explicitly_deploys(config) is writes  # type: ignore[arg-type]


def test_deploy_refuses_xdist(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "deploy", "-n", "2", f"--report-dir={tmp_path}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "drop -n/--numprocesses" in done.stderr + done.stdout
    assert not (tmp_path / "deploy-journal.json").exists()
