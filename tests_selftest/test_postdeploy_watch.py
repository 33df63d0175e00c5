"""The watch on the emulator: a critical check that turns red in round 2 triggers the
rollback command and one notification, and the watch stops; Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deploy_steps.cli import main as readiness_main
from readiness.emulator import EmulatorControl, EmulatorProcess

from .conftest import REPO

pytestmark = pytest.mark.slow
TOPIC = "prod-alerts"
SECRET_PATH = "/services/T000/B000/not-a-real-secret"


class Hook:
    """A loopback webhook that keeps every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append({"path": self.path, "json": json.loads(self.rfile.read(length))})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{SECRET_PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("demo") as running:
        yield running


def write_config(folder: Path, hook_url: str, topic_arn: str) -> tuple[Path, Path]:
    marker = folder / "rollback-called.json"
    script = folder / "record_rollback.py"
    script.write_text(
        "import json, sys, pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text(json.dumps(sys.argv[1:]))\n"
        "print('rolled back (test double)')\n"
    )
    config = folder / "readiness.toml"
    config.write_text(
        f"""
default_environment = "watched"

[environments.watched]
account_id = "123456789012"
regions = ["us-east-1", "us-west-2"]
emulator = {{ seed = "demo" }}
log_groups = ["/ecs/prod-api"]
notify = {{ sns_topic_arn = "{topic_arn}", webhook_url = "{hook_url}" }}

[environments.watched.postdeploy]
rollback_command = [{json.dumps(sys.executable)}, {json.dumps(str(script))}, "--journal",
                    "{{report_dir}}/deploy-journal.json", "--env", "{{env}}"]
"""
    )
    return config, marker


def _rounds(out: Path) -> list[dict[str, Any]]:
    try:
        return list(json.loads((out / "watch.json").read_text())["rounds"])
    except (OSError, ValueError, KeyError):
        return []


def test_a_critical_failure_in_round_two_rolls_back_notifies_once_and_stops(
    emulator: EmulatorProcess,
    hook: Hook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    control = EmulatorControl(emulator.endpoint)
    topic_arn = control.client("sns").create_topic(Name=TOPIC)["TopicArn"]
    config, marker = write_config(tmp_path, hook.url, topic_arn)
    out = tmp_path / "out"
    for key, value in emulator.attach_environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(REPO)
    turned_red = threading.Event()

    def turn_red_after_round_one() -> None:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if len(_rounds(out)) >= 1:
                control.client("cloudwatch").set_alarm_state(
                    AlarmName="prod-api-cpu-high", StateValue="ALARM", StateReason="CPU 97 %"
                )
                turned_red.set()
                return
            time.sleep(0.05)

    flipper = threading.Thread(target=turn_red_after_round_one, daemon=True)
    flipper.start()
    code = readiness_main(
        [
            "watch",
            "--env",
            "watched",
            f"--config={config}",
            f"--report-dir={out}",
            "--interval",
            "3s",
            "--for",
            "10m",
            "--rounds",
            "4",
        ]
    )
    flipper.join(timeout=5)
    assert turned_red.is_set()
    report = json.loads((out / "watch.json").read_text())
    rounds = report["rounds"]
    assert [r["action"] for r in rounds] == ["continue", "rollback"]
    assert [r["verdict"] for r in rounds] == ["GO", "NO-GO"]
    assert rounds[0]["notifications"] == []
    assert "alarm-not-firing [us-east-1/prod-api-cpu-high]" in " ".join(rounds[1]["failures"])
    assert report["stopped_by"] == "rolled back after a critical failure"
    assert code == 2 == report["exit_code"]
    # The rollback command ran once, with the journal in the watch's report folder.
    called = json.loads(marker.read_text())
    assert called == ["--journal", f"{out}/deploy-journal.json", "--env", "watched"]
    assert rounds[1]["rollback"]["exit_code"] == 0
    # Exactly one notification reached the webhook, saying what failed and where to look.
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert body["path"] == SECRET_PATH
    payload = body["json"]
    assert payload["readiness"]["verdict"] == "NO-GO"
    assert payload["readiness"]["action"] == "rollback"
    assert any("prod-api-cpu-high" in f for f in payload["readiness"]["failures"])
    assert payload["readiness"]["report"].endswith("watch.html")
    assert "NO-GO" in payload["text"]
    # The same message went to SNS (Publish only), and the report never shows the secret.
    deliveries = {d["channel"]: d for d in rounds[1]["notifications"]}
    assert deliveries["sns"]["ok"] is True, deliveries
    assert deliveries["webhook"]["ok"] is True
    for name in ("watch.json", "watch.md", "watch.html"):
        assert "not-a-real-secret" not in (out / name).read_text()
    assert (out / "round-001" / "readiness.html").exists()
    assert (out / "round-002" / "verdict.json").exists()


def test_ctrl_c_stops_the_watch_cleanly(emulator: EmulatorProcess, tmp_path: Path) -> None:
    EmulatorControl(emulator.endpoint).client("cloudwatch").set_alarm_state(
        AlarmName="prod-api-cpu-high", StateValue="OK", StateReason="back to normal"
    )
    config, marker = write_config(tmp_path, "http://127.0.0.1:9/unused", "")
    out = tmp_path / "out"
    env = dict(os.environ, **emulator.attach_environment())
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy_steps.cli",
            "watch",
            "--env",
            "watched",
            f"--config={config}",
            f"--report-dir={out}",
            "--interval",
            "10m",
            "--for",
            "2h",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not _rounds(out) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _rounds(out), "no round finished"
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
        stopped_in = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert stopped_in < 10
    assert "Traceback" not in stderr
    report = json.loads((out / "watch.json").read_text())
    assert report["stopped_by"] == "interrupted by the operator (Ctrl-C)"
    assert len(report["rounds"]) == 1
    assert report["rounds_planned"] == 13
    assert process.returncode == 2 == report["exit_code"]
    assert not marker.exists()
