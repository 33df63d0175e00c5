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


def test_a_write_in_an_audit_run_is_refused(
    pytester: pytest.Pytester, demo_emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nreadiness_gate = true\ntestpaths = checks\n")
    pytester.makeconftest('pytest_plugins = ["reports.plugin", "readiness.pytest_plugin"]\n')
    (pytester.path / "readiness.toml").write_text((REPO / "readiness.toml").read_text())
    checks = pytester.mkdir("checks")
    (checks / "test_writes.py").write_text(WRITING_CHECK)
    write_catalogue(pytester.path, "checks")
    for key, value in demo_emulator.attach_environment().items():
        monkeypatch.setenv(key, value)
    result = pytester.runpytest_subprocess("-m", "audit", "-p", "no:cacheprovider")
    assert result.ret == 2  # an error in a check is NO-GO, whatever its severity
    verdict = json.loads((pytester.path / "out" / "verdict.json").read_text())
    [row] = verdict["results"]
    assert row["outcome"] == "error"
    assert "refused sqs:CreateQueue before sending it" in row["message"]
    queues = EmulatorControl(demo_emulator.endpoint).client("sqs").list_queues()
    assert not any(u.endswith("/written-during-an-audit") for u in queues.get("QueueUrls", []))
    calls = json.loads((pytester.path / "out" / "api-calls.json").read_text())
    assert calls["mutating_calls"] == []
