"""In an audit run, a check that tries to change AWS is stopped before the call is sent."""

from __future__ import annotations

import json

import pytest

from readiness.emulator import EmulatorControl, EmulatorProcess

from .conftest import REPO, write_catalogue

pytestmark = pytest.mark.slow

WRITING_CHECK = """
import pytest

pytestmark = [pytest.mark.audit, pytest.mark.warning]


@pytest.mark.check(id="tries-to-write", title="A check that writes", category="operations")
def test_writes(aws):
    aws.client("sqs").create_queue(QueueName="written-during-an-audit")
"""


def run_audit(
    pytester: pytest.Pytester,
    emulator: EmulatorProcess,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    source: str,
) -> pytest.RunResult:
    """`pytest -m audit` of one check module against the demo emulator."""
    pytester.makeini("[pytest]\nreadiness_gate = true\ntestpaths = checks\n")
    pytester.makeconftest('pytest_plugins = ["reports.plugin", "readiness.pytest_plugin"]\n')
    (pytester.path / "readiness.toml").write_text((REPO / "readiness.toml").read_text())
    (pytester.mkdir("checks") / name).write_text(source)
    write_catalogue(pytester.path, "checks")
    for key, value in emulator.attach_environment().items():
        monkeypatch.setenv(key, value)
    return pytester.runpytest_subprocess("-m", "audit", "-p", "no:cacheprovider")


def test_a_write_in_an_audit_run_is_refused(
    pytester: pytest.Pytester, demo_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_audit(pytester, demo_emulator, monkeypatch, "test_writes.py", WRITING_CHECK)
    assert result.ret == 2  # an error in a check is NO-GO, whatever its severity
    verdict = json.loads((pytester.path / "out" / "verdict.json").read_text())
    [row] = verdict["results"]
    assert row["outcome"] == "error"
    assert "refused sqs:CreateQueue before sending it" in row["message"]
    queues = EmulatorControl(demo_emulator.endpoint).client("sqs").list_queues()
    assert not any(u.endswith("/written-during-an-audit") for u in queues.get("QueueUrls", []))
    calls = json.loads((pytester.path / "out" / "api-calls.json").read_text())
    assert calls["mutating_calls"] == []


SWALLOWING_CHECK = """
import pytest

pytestmark = [pytest.mark.audit, pytest.mark.warning]


@pytest.mark.check(id="swallows-errors", title="Hides a failed read", category="operations")
@pytest.mark.aws_reads("sqs:GetQueueUrl")
def test_swallows(aws):
    try:
        aws.client("sqs").get_queue_url(QueueName="no-such-queue-anywhere")
    except Exception:
        pass  # careless: the read failed, and the check says nothing
"""


def test_a_check_that_swallows_a_failed_read_is_no_pass(
    pytester: pytest.Pytester, demo_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_audit(pytester, demo_emulator, monkeypatch, "test_swallows.py", SWALLOWING_CHECK)
    assert result.ret == 2
    verdict = json.loads((pytester.path / "out" / "verdict.json").read_text())
    [row] = verdict["results"]
    assert row["outcome"] == "passed"  # what the check claimed ...
    where = "checks/test_swallows.py::test_swallows"
    assert any(
        p.startswith(f"{where} passed although its AWS call sqs:GetQueueUrl failed (http 400)")
        for p in verdict["problems"]
    ), verdict["problems"]  # ... is not taken
