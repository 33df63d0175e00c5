"""`readiness go-live` on the emulator: every decision branch, rollback, resume.

Preflight and audit are always the real suite on the embedded emulator. The deploy
stage and `readiness rollback` come from the deploy work: where this tree does not have
them yet, the end-to-end tests skip and say so, and the orchestration is shown with a
runner whose deploy stage writes a journal and whose rollback answers like the real one.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from deploy_steps.gate import GateResult
from deploy_steps.golive import GoLiveOptions, go_live
from deploy_steps.golive.stages import CommandResult, SubprocessRunner, rollback_available

from .conftest import REPO

pytestmark = pytest.mark.slow


def run_golive(
    args: list[str], out: Path, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "deploy_steps.cli", "go-live", f"--out={out}", *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def only_run(out: Path) -> Path:
    runs = sorted((out / "go-live").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def state_of(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "state.json").read_text()))


def stages_of(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in state["stages"]}


def _fake_verdict(report_dir: Path, code: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    verdict = {
        "schema_version": 1,
        "complete": True,
        "run_id": uuid.uuid4().hex[:12],
        "exit_code": code,
        "verdict_label": {0: "GO", 1: "CONDITIONAL GO", 2: "NO-GO"}[code],
        "reasons": [f"{r['severity']} {r['outcome']}: {r['check_id']}" for r in results],
        "problems": [],
        "results": results,
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "verdict.json").write_text(json.dumps(verdict))
    (report_dir / "readiness.html").write_text("<html>stage report</html>")
    return verdict


class ScriptedDeploy:
    """Real preflight and audit; a deploy that journals; validations with a set verdict."""

    def __init__(self, validations: int = 0, rounds: tuple[int, ...] = ()) -> None:
        self.real = SubprocessRunner()
        self.validations = validations
        self.rounds = list(rounds)  # monitoring rounds' verdicts, in order
        self.calls: list[str] = []
        self.rollbacks: list[Path] = []

    def gate(
        self, phase: str, env: str, report_dir: Path, extra: list[str], environ: Mapping[str, str]
    ) -> GateResult:
        self.calls.append(phase)
        if phase in ("preflight", "audit"):
            return self.real.gate(phase, env, report_dir, extra, environ)
        if phase == "deploy":
            assert environ.get("READINESS_EMULATOR_ENDPOINT"), "stages must share the emulator"
            verdict = _fake_verdict(report_dir, 0, [])
            (report_dir / "deploy-journal.json").write_text('{"steps": []}')
            return GateResult(0, 0, verdict, "")
        failed = {
            "check_id": "canary-green-after-deploy",
            "title": "Canaries are green within 15 minutes",
            "severity": "critical",
            "outcome": "failed",
            "resource": "us-east-1/prod-api-health",
            "message": "canary prod-api-health failed its last 3 runs",
            "remediation": "look at the canary's screenshots and the API logs",
        }
        code = self.validations
        if "monitoring" in report_dir.parts:
            code = self.rounds.pop(0)
        verdict = _fake_verdict(report_dir, code, [failed] if code == 2 else [])
        return GateResult(code, code, verdict, "")

    def rollback(self, journal: Path, environ: Mapping[str, str]) -> CommandResult:
        self.rollbacks.append(journal)
        return CommandResult(0, "rollback: 3 journalled values restored, stack destroyed")

    def cannot_rollback(self) -> str:
        return ""


def in_process(runner: ScriptedDeploy, out: Path, env: str, **options: Any) -> tuple[int, str]:
    stream = io.StringIO()
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        code = go_live(GoLiveOptions(env=env, out=out, stream=stream, **options), runner)
    finally:
        os.chdir(cwd)
    return code, stream.getvalue()


def deploy_missing() -> str:
    """Why the real deploy path cannot run in this tree ('' when it can)."""
    reasons = []
    if rollback_available():
        reasons.append("`readiness rollback` is not in this tree (branch deploy not merged)")
    if not (REPO / "checks" / "deploy").is_dir():
        reasons.append("checks/deploy/ does not exist: `pytest -m deploy` has no phase to run")
    if not (REPO / "checks" / "postdeploy").is_dir():
        reasons.append("checks/postdeploy/ does not exist: the validations stage has no check")
    return "; ".join(reasons)


# -- NO-GO and CONDITIONAL GO: the real thing, end to end ------------------------------


def test_no_go_stops_before_deploying(tmp_path: Path) -> None:
    done = run_golive(["--env", "local-broken"], tmp_path)
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-2000:]
    run_dir = only_run(tmp_path)
    state = state_of(run_dir)
    stages = stages_of(state)
    assert state["finished"] and state["exit_code"] == 2
    assert stages["decision"]["outcome"] == "stop"
    assert "deploy" not in stages
    blocking = state["decision"]["blocking"]
    assert blocking
    assert all(b["severity"] == "critical" or b["outcome"] == "error" for b in blocking)
    assert "NO-GO: stop" in done.stdout and "fix:" in done.stdout
    assert (run_dir / "audit" / "readiness.html").is_file()
    assert not (tmp_path / "incidents").exists()  # nothing was changed, nothing to record


def test_conditional_without_accepted_risks_stops_and_never_asks(tmp_path: Path) -> None:
    done = run_golive(["--env", "local-risky"], tmp_path)
    assert done.returncode == 2, done.stdout[-3000:]
    state = state_of(only_run(tmp_path))
    decision = state["decision"]
    assert decision["verdict"] == "CONDITIONAL GO" and decision["outcome"] == "stop"
    assert decision["open_risks"] and decision["accepted"] is None
    assert "[y/N]" not in done.stdout  # stdin is not a terminal
    assert "--accept-risks" in done.stdout


def test_accept_risks_needs_a_name(tmp_path: Path) -> None:
    done = run_golive(["--env", "local-risky", "--accept-risks"], tmp_path)
    assert done.returncode == 2 and "--accepted-by" in done.stderr
    assert not (tmp_path / "go-live").exists()


def test_conditional_with_accepted_risks_deploys_and_exits_1(tmp_path: Path) -> None:
    runner = ScriptedDeploy(validations=0)
    code, text = in_process(runner, tmp_path, "local-risky", accept_risks=True, accepted_by="alice")
    assert code == 1, text[-3000:]
    run_dir = only_run(tmp_path)
    state = state_of(run_dir)
    assert state["decision"]["accepted"] == {"by": "alice", "how": "flag"}
    record = (run_dir / "decision" / "decision.md").read_text()
    assert "Accepted by **alice**" in record
    assert all(r["check_id"] in record for r in state["decision"]["open_risks"])
    assert runner.calls == ["preflight", "audit", "deploy", "postdeploy"]


# -- GO and rollback: orchestration, then the real deploy when this tree has it ---------


def test_go_deploys_validates_and_writes_the_timeline(tmp_path: Path) -> None:
    runner = ScriptedDeploy(validations=0)
    code, text = in_process(runner, tmp_path, "local")
    assert code == 0, text[-3000:]
    run_dir = only_run(tmp_path)
    stages = stages_of(state_of(run_dir))
    assert [s for s in stages] == ["preflight", "audit", "decision", "deploy", "validations"]
    timeline = json.loads((run_dir / "timeline.json").read_text())
    assert [r["stage"] for r in timeline["stages"]] == list(stages)
    page = (run_dir / "timeline.html").read_text()
    for stage in ("preflight", "audit", "deploy", "validations"):
        assert f'href="{stage}/readiness.html"' in page
        assert (run_dir / stage / "readiness.html").is_file()
    assert "GO-LIVE TIMELINE" in text and "DEPLOYED and validated (exit 0)" in text
    assert not runner.rollbacks


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_failed_validation_rolls_back_and_writes_the_incident(tmp_path: Path) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = f"http://127.0.0.1:{server.server_port}/hooks/secret-path-{uuid.uuid4().hex}"
    config = tmp_path / "readiness.toml"
    config.write_text(
        (REPO / "readiness.toml").read_text()
        + f'\n[environments.local.notify]\nwebhook_url = "{secret}"\n'
    )
    runner = ScriptedDeploy(validations=2)
    try:
        code, text = in_process(runner, tmp_path, "local", config=config)
    finally:
        server.shutdown()
    assert code == 2, text[-3000:]
    run_dir = only_run(tmp_path)
    assert runner.rollbacks == [run_dir / "deploy" / "deploy-journal.json"]
    state = state_of(run_dir)
    assert stages_of(state)["rollback"]["outcome"] == "restored"
    incidents = list((tmp_path / "incidents").glob("*.md"))
    assert len(incidents) == 1 and state["incident"] == str(incidents[0])
    record = incidents[0].read_text()
    assert "canary-green-after-deploy" in record and "us-east-1/prod-api-health" in record
    assert "restored (readiness rollback exit 0)" in record
    assert "## Post-mortem checklist" in record and "#readiness-ops" in record
    assert "ROLLED BACK" in text
    # Notified once, on loopback, and the webhook's secret path is written nowhere.
    assert len(Hook.received) == 1
    assert "canary-green-after-deploy" in Hook.received[0]["text"]
    assert "webhook http://127.0.0.1" in record and "sent" in record
    for written in [record, text, *(p.read_text() for p in run_dir.rglob("*.json"))]:
        assert "secret-path" not in written


def test_critical_failure_while_monitoring_rolls_back(tmp_path: Path) -> None:
    runner = ScriptedDeploy(validations=0, rounds=(0, 2, 0))
    code, text = in_process(
        runner, tmp_path, "local", monitor_minutes=3 / 60, monitor_interval_minutes=1 / 60
    )
    assert code == 2, text[-3000:]
    assert runner.rounds == [0]  # stopped at the critical round
    state = state_of(only_run(tmp_path))
    stages = stages_of(state)
    assert stages["monitoring"]["outcome"] == "critical in round 2"
    assert stages["rollback"]["outcome"] == "restored"
    record = Path(state["incident"]).read_text()
    assert "critical failure in monitoring round 2" in record
    assert "canary-green-after-deploy" in record


def test_warnings_while_monitoring_keep_the_deployment_with_exit_1(tmp_path: Path) -> None:
    runner = ScriptedDeploy(validations=0, rounds=(1, 0, 0))
    code, text = in_process(
        runner, tmp_path, "local", monitor_minutes=2 / 60, monitor_interval_minutes=1 / 60
    )
    assert code == 1, text[-3000:]
    assert "rollback prepared" in text
    stages = stages_of(state_of(only_run(tmp_path)))
    assert "rollback" not in stages and not runner.rollbacks


def test_a_deploy_is_refused_when_no_rollback_exists(tmp_path: Path) -> None:
    if not rollback_available():
        pytest.skip("this tree has `readiness rollback`; the refusal cannot happen here")
    done = run_golive(["--env", "local"], tmp_path)
    assert done.returncode == 2
    stages = stages_of(state_of(only_run(tmp_path)))
    assert stages["deploy"]["outcome"] == "refused"
    assert "readiness rollback" in stages["deploy"]["detail"]


def test_go_end_to_end_with_the_real_deploy(tmp_path: Path) -> None:
    missing = deploy_missing()
    if missing:
        pytest.skip(f"GO path end to end cannot run yet: {missing}")
    done = run_golive(["--env", "local"], tmp_path, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    run_dir = only_run(tmp_path)
    stages = stages_of(state_of(run_dir))
    assert stages["deploy"]["exit_code"] == 0 and stages["validations"]["exit_code"] == 0
    timeline = json.loads((run_dir / "timeline.json").read_text())
    deploy = next(r for r in timeline["stages"] if r["stage"] == "deploy")
    assert [p["plan_minutes"] for p in deploy["parts"]] == [15, 15, 15, 15]  # phases 1-4
    assert "Phase 4: Validation" in done.stdout and "DEPLOYED and validated (exit 0)" in done.stdout


def test_rollback_end_to_end_with_the_real_deploy(tmp_path: Path) -> None:
    missing = deploy_missing()
    if missing:
        pytest.skip(f"rollback end to end cannot run yet: {missing}")
    done = run_golive(["--env", "local", "--simulate-failure=rate-limiter-off"], tmp_path, 600)
    assert done.returncode == 2, done.stdout[-4000:]
    state = state_of(only_run(tmp_path))
    assert stages_of(state)["rollback"]["outcome"] == "restored"
    record = Path(state["incident"]).read_text()
    assert "`deploy-rate-limiter`" in record  # the failed phase-4 validation, by id
    assert "restored (readiness rollback exit 0)" in record
    assert "- Release restored: no stack (the deploy created it) — restored and verified" in record
    journal = json.loads((only_run(tmp_path) / "deploy" / "deploy-journal.json").read_text())
    assert journal.get("status") == "rolled-back", journal.get("status")


def test_conditional_accepted_end_to_end_exits_1(tmp_path: Path) -> None:
    missing = deploy_missing()
    if missing:
        pytest.skip(f"CONDITIONAL GO end to end cannot run yet: {missing}")
    done = run_golive(
        ["--env", "local-risky", "--accept-risks", "--accepted-by", "alice"], tmp_path, 600
    )
    state = state_of(only_run(tmp_path))
    stages = stages_of(state)
    assert state["decision"]["accepted"] == {"by": "alice", "how": "flag"}
    assert stages["deploy"]["exit_code"] in (0, 1), done.stdout[-4000:]
    # Accepted risks can exit 1 at best; the validations still decide over the rollback
    # (on demo-risky the post-deploy checks judge the idle report Lambda on their own).
    if stages["validations"]["exit_code"] == 2:
        assert done.returncode == 2 and stages["rollback"]["outcome"] == "restored"
        assert Path(state["incident"]).is_file()
    else:
        assert done.returncode == 1, done.stdout[-4000:]


# -- resume ---------------------------------------------------------------------------


def test_resume_after_an_interrupt_reuses_the_audit(tmp_path: Path) -> None:
    first = run_golive(["--env", "local", "--stop-after", "audit"], tmp_path)
    assert first.returncode == 2 and "--resume" in first.stdout
    run_dir = only_run(tmp_path)
    state = state_of(run_dir)
    assert not state["finished"]
    audit_run = json.loads((run_dir / "audit" / "verdict.json").read_text())["run_id"]

    runner = ScriptedDeploy(validations=0)
    code, text = in_process(runner, tmp_path, "local", resume=True)
    assert code == 0, text[-3000:]
    assert only_run(tmp_path) == run_dir  # the same go-live, continued
    stages = stages_of(state_of(run_dir))
    assert stages["preflight"]["status"] == "reused" and stages["audit"]["status"] == "reused"
    assert runner.calls == ["deploy", "postdeploy"]
    assert json.loads((run_dir / "audit" / "verdict.json").read_text())["run_id"] == audit_run
    assert "reusing audit" in text


def test_resume_redoes_a_stale_audit(tmp_path: Path) -> None:
    first = run_golive(["--env", "local", "--stop-after", "audit"], tmp_path)
    assert first.returncode == 2
    run_dir = only_run(tmp_path)
    state = state_of(run_dir)
    for stage in state["stages"]:  # as if the go-live had stopped two hours ago
        stage["finished_at"] = "2000-01-01T00:00:00+00:00"
    (run_dir / "state.json").write_text(json.dumps(state))
    runner = ScriptedDeploy(validations=0)
    code, text = in_process(runner, tmp_path, "local", resume=True)
    assert code == 0, text[-3000:]
    assert runner.calls[:2] == ["preflight", "audit"]
    assert "audit_max_age_minutes = 60" in text


def test_sigint_during_the_audit_leaves_a_resumable_state(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy_steps.cli", "go-live", f"--out={tmp_path}", "--env=local"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = list((tmp_path / "go-live").glob("*/state.json"))
            if (
                runs
                and stages_of(json.loads(runs[0].read_text())).get("audit", {}).get("status")
                == "running"
            ):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the audit stage never started")
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 2, output[-3000:]
    assert "interrupted during audit" in output and "--resume" in output
    state = state_of(only_run(tmp_path))
    assert not state["finished"]
    assert stages_of(state)["audit"]["status"] == "running"
    assert stages_of(state)["preflight"]["status"] == "done"


def test_in_a_terminal_conditional_go_asks_and_no_stops(tmp_path: Path) -> None:
    """Stdin and stdout on a pseudo-terminal: the go-live asks [y/N]; 'n' stops it."""
    import pty
    import select

    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy_steps.cli", "go-live", f"--out={tmp_path}"]
        + ["--env=local-risky"],
        cwd=REPO,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    answered = False
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(master, b"n\n")
                answered = True
            if process.poll() is not None and not ready:
                break
        process.wait(timeout=60)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert answered, seen.decode(errors="replace")[-3000:]
    assert process.returncode == 2
    decision = state_of(only_run(tmp_path))["decision"]
    assert decision["outcome"] == "stop" and decision["accepted"] is None
