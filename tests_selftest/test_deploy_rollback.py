"""Whole deploys against a fresh emulator where Phase 2 has something to change: a
failed validation rolls back every journalled value and destroys what the deploy
created; a SIGKILL mid-phase is finished by `readiness rollback`; rollback twice is
harmless; a plan that deletes a table is refused before anything is applied; a clean
deploy is GO with the time table, and a second one changes nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy_steps.terraform_runner import Terraform
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .conftest import REPO, run_suite
from .test_deploy_terraform import LOCAL_MODULE, needs_terraform

pytestmark = [pytest.mark.slow, pytest.mark.terraform, needs_terraform]
ENV = "deploytest"


def write_config(
    folder: Path,
    *,
    tf_vars: str = 'tables = ["prod-sessions-archive"], queues = []',
    extra: str = "",
) -> Path:
    """A variant of `local` with no canary (so a clean deploy can be GO without canary data)."""
    path = folder / "readiness.toml"
    path.write_text(
        f"""default_environment = "{ENV}"

[environments.{ENV}]
account_id = "123456789012"
regions = ["us-east-1", "us-west-2"]
emulator = {{ seed = "demo" }}
health_urls = ["{{app}}/health"]
rate_limit = {{ url = "{{app}}/api/ping", limit_per_second = 10, burst_requests = 40 }}

[environments.{ENV}.deploy]
terraform_dir = "{LOCAL_MODULE}"
state_backend = "local"
terraform_vars = {{ {tf_vars} }}
{extra}

[environments.{ENV}.deploy.services]
performance_insights = ["prod-db"]
circuit_breaker = ["prod-cluster/api", "prod-cluster/worker"]
ttl = {{ prod-sessions = "expires_at" }}
"""
    )
    return path


def live_state(control: EmulatorControl) -> dict[str, Any]:
    rds = control.client("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier="prod-db")["DBInstances"][0]
    ecs = control.client("ecs")
    services = ecs.describe_services(cluster="prod-cluster", services=["api", "worker"])
    breakers = {
        s["serviceName"]: s["deploymentConfiguration"]["deploymentCircuitBreaker"]
        for s in services["services"]
    }
    ttl = control.client("dynamodb").describe_time_to_live(TableName="prod-sessions")
    return {
        "pi": (db["PerformanceInsightsEnabled"], db.get("PerformanceInsightsRetentionPeriod")),
        "breakers": breakers,
        "ttl": ttl["TimeToLiveDescription"]["TimeToLiveStatus"],
    }


def app(emulator: EmulatorProcess, **payload: Any) -> None:
    request = urllib.request.Request(
        f"{emulator.app_url}/_control",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture
def emulator() -> Iterator[EmulatorProcess]:
    """A demo stack with three things for Phase 2 to change."""
    with EmulatorProcess.start("demo") as started:
        control = EmulatorControl(started.endpoint)
        control.client("rds").modify_db_instance(
            DBInstanceIdentifier="prod-db", EnablePerformanceInsights=False, ApplyImmediately=True
        )
        control.client("ecs").update_service(
            cluster="prod-cluster",
            service="worker",
            deploymentConfiguration={
                "deploymentCircuitBreaker": {"enable": False, "rollback": False}
            },
        )
        control.client("dynamodb").update_time_to_live(
            TableName="prod-sessions",
            TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"},
        )
        yield started


BEFORE = {
    "pi": (False, None),
    "breakers": {
        "api": {"enable": True, "rollback": True},
        "worker": {"enable": False, "rollback": False},
    },
    "ttl": "DISABLED",
}


def deploy(config: Path, out: Path, emulator: EmulatorProcess, *extra: str) -> Any:
    args = ["-m", "deploy", "--env", ENV, f"--config={config}", *extra]
    return run_suite(args, out, attach=emulator)


def rollback_cli(journal: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy_steps.cli", "rollback", f"--journal={journal}", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tf_resources(out: Path) -> list[Any]:
    state = out / "terraform" / ENV / "terraform.tfstate"
    return list(json.loads(state.read_text()).get("resources", []))


def results(run: Any) -> dict[str, str]:
    return {r["check_id"]: r["outcome"] for r in run.verdict["results"]}


def test_failed_validation_rolls_back_every_value_and_destroys(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = EmulatorControl(emulator.endpoint)
    assert live_state(control) == BEFORE
    app(emulator, rate_limit=None)  # the limiter is gone: Phase 4 must fail
    out = tmp_path / "out"
    run = deploy(write_config(tmp_path), out, emulator)
    assert run.returncode == 2, run.stdout[-3000:]
    assert results(run)["deploy-rate-limiter"] == "failed"
    assert results(run)["deploy-services"] == "passed"
    journal = run.json("deploy-journal.json")
    assert journal["status"] == "rolled-back"
    kinds = [(s["kind"], s["target"].get("service", "")) for s in journal["steps"]]
    assert kinds == [("performance_insights", ""), ("circuit_breaker", "worker"), ("ttl", "")]
    for step in journal["steps"]:
        assert step["state"] == "reverted"
        assert step["after"] != step["before"]  # each really changed, then came back
    assert live_state(control) == BEFORE
    terraform = journal["terraform"]
    assert terraform["created"] is True and terraform["destroyed"] is True
    assert terraform["serial_after"] > 0
    assert tf_resources(out) == []
    assert "deploy time breakdown" in run.stdout


def _wait_for(path: Path, ready: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and ready(data):
            return data
        time.sleep(0.05)
    raise AssertionError(f"{path} never got there")


def test_sigkill_mid_phase_then_readiness_rollback_twice(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = EmulatorControl(emulator.endpoint)
    out = tmp_path / "out"
    out.mkdir()
    config = write_config(tmp_path)
    env = dict(os.environ, **emulator.attach_environment())
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--report-dir={out}"]
    command += ["-m", "deploy", "--env", ENV, f"--config={config}"]
    with (tmp_path / "deploy.out").open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            journal_path = out / "deploy-journal.json"
            # Phase 2 finished, Phase 3 (the audit re-run) under way: kill everything.
            _wait_for(
                journal_path,
                lambda d: any(p["phase"] == "services" for p in d.get("phases", [])),
                timeout=150,
            )
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    journal = json.loads(journal_path.read_text())
    assert journal["status"] == "deploying"
    assert all(s["state"] == "applied" for s in journal["steps"]) and len(journal["steps"]) == 3
    changed = live_state(control)
    assert changed != BEFORE and changed["pi"] == (True, 7) and changed["ttl"] == "ENABLED"
    assert tf_resources(out) != []

    text = journal_path.read_text()
    dry = rollback_cli(journal_path, "--dry-run")
    assert dry.returncode == 2, dry.stdout + dry.stderr
    assert "would set" in dry.stdout and "would destroy 2 resource(s)" in dry.stdout
    assert journal_path.read_text() == text and live_state(control) == changed

    first = rollback_cli(journal_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert live_state(control) == BEFORE
    assert tf_resources(out) == []
    assert json.loads(journal_path.read_text())["status"] == "rolled-back"

    second = rollback_cli(journal_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "nothing left in the state" in second.stdout
    assert "set back" not in second.stdout and "destroyed" not in second.stdout
    assert live_state(control) == BEFORE
    assert rollback_cli(journal_path, "--dry-run").returncode == 0


def test_no_rollback_keeps_the_failed_deploy_until_rollback(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = EmulatorControl(emulator.endpoint)
    app(emulator, rate_limit=None)
    out = tmp_path / "out"
    run = deploy(write_config(tmp_path), out, emulator, "--no-rollback")
    assert run.returncode == 2
    journal_path = out / "deploy-journal.json"
    assert json.loads(journal_path.read_text())["status"] == "kept"
    assert live_state(control)["pi"] == (True, 7)
    assert rollback_cli(journal_path).returncode == 0
    assert live_state(control) == BEFORE
    again = rollback_cli(journal_path)
    assert again.returncode == 0 and "already reverted" in again.stdout
    assert live_state(control) == BEFORE


def test_plan_deleting_a_table_is_refused_before_anything_is_applied(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = EmulatorControl(emulator.endpoint)
    out = tmp_path / "out"
    # The stack as a previous deploy left it: the table exists in the state.
    existing = Terraform(
        LOCAL_MODULE,
        out / "terraform" / ENV,
        state_path=out / "terraform" / ENV / "terraform.tfstate",
    )
    existing.write_vars({"tables": ["prod-sessions-archive"], "queues": []})
    existing.init()
    existing.plan()
    existing.apply_plan()
    serial, addresses = existing.state_summary()

    run = deploy(write_config(tmp_path, tf_vars="tables = [], queues = []"), out, emulator)
    assert run.returncode == 2
    assert results(run)["deploy-plan-gate"] == "failed"
    message = next(
        r["message"] for r in run.verdict["results"] if r["check_id"] == "deploy-plan-gate"
    )
    assert 'terraform_data.table["prod-sessions-archive"]' in message
    assert "aws_dynamodb_table" in message
    # Nothing applied: the state and Phase 2's values are as they were.
    assert existing.state_summary() == (serial, addresses)
    assert live_state(control) == BEFORE
    journal = run.json("deploy-journal.json")
    assert journal["steps"] == [] and journal["terraform"]["apply_started"] is False
    assert journal["terraform"]["plan"]["refused"] is True


def test_clean_deploy_is_go_with_the_time_table_and_a_second_changes_nothing(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = EmulatorControl(emulator.endpoint)
    out = tmp_path / "out"
    config = write_config(tmp_path)
    gate = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy_steps.cli",
            "gate",
            "deploy",
            "--env",
            ENV,
            "--report-dir",
            str(out),
            f"--config={config}",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO,
        env=dict(os.environ, **emulator.attach_environment()),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert gate.returncode == 0, gate.stdout[-4000:] + gate.stderr[-2000:]
    for row in (
        "Phase 1: Infrastructure",
        "Phase 2: Services",
        "Phase 3: Security",
        "Phase 4: Validation",
    ):
        assert row in gate.stdout
    first = json.loads((out / "deploy-journal.json").read_text())
    assert first["status"] == "deployed" and len(first["steps"]) == 3
    assert [p["phase"] for p in first["phases"]] == [
        "infrastructure",
        "services",
        "security",
        "validation",
    ]
    assert all(p["within_budget"] and p["duration_s"] >= 0 for p in first["phases"])
    after = live_state(control)
    assert after["pi"] == (True, 7) and after["ttl"] == "ENABLED"
    assert after["breakers"]["worker"] == {"enable": True, "rollback": True}

    again = deploy(config, out, emulator)
    assert again.returncode == 0, again.stdout[-3000:]
    second = again.json("deploy-journal.json")
    assert second["steps"] == []  # idempotent: every value was already right
    assert second["terraform"]["plan"]["add"] == 0 and second["terraform"]["plan"]["destroy"] == 0
    assert second["terraform"]["serial_before"] == first["terraform"]["serial_after"]
    assert live_state(control) == after


def test_sigterm_mid_phase_rolls_back_in_the_run(emulator: EmulatorProcess, tmp_path: Path) -> None:
    control = EmulatorControl(emulator.endpoint)
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, **emulator.attach_environment())
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--report-dir={out}"]
    command += ["-m", "deploy", "--env", ENV, f"--config={write_config(tmp_path)}"]
    with (tmp_path / "deploy.out").open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            _wait_for(
                out / "deploy-journal.json",
                lambda d: any(p["phase"] == "services" for p in d.get("phases", [])),
                timeout=150,
            )
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
    assert process.returncode == 2, (tmp_path / "deploy.out").read_text()[-3000:]
    journal = json.loads((out / "deploy-journal.json").read_text())
    assert journal["status"] == "rolled-back", journal["events"]
    assert len(journal["steps"]) == 3 and all(s["state"] == "reverted" for s in journal["steps"])
    assert live_state(control) == BEFORE
    assert tf_resources(out) == []


def test_timeout_mid_phase_rolls_back(emulator: EmulatorProcess, tmp_path: Path) -> None:
    control = EmulatorControl(emulator.endpoint)
    # A rate-limited API that takes connections and never answers: Phase 4 hangs.
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(128)
        port = black_hole.getsockname()[1]
        config = write_config(tmp_path)
        text = config.read_text().replace(
            'rate_limit = { url = "{app}/api/ping"',
            f'rate_limit = {{ url = "http://127.0.0.1:{port}/api"',
        )
        config.write_text(text)
        out = tmp_path / "out"
        run = deploy(config, out, emulator, "--timeout=30")
    assert run.returncode == 2
    assert "Timeout" in run.stdout
    journal = run.json("deploy-journal.json")
    assert journal["status"] == "rolled-back", journal["events"]
    assert len(journal["steps"]) == 3 and all(s["state"] == "reverted" for s in journal["steps"])
    assert live_state(control) == BEFORE
    assert tf_resources(out) == []
