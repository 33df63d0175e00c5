"""The core in whole runs of the real suite: snapshot, replay, parity, no orphan emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from readiness.emulator import EmulatorProcess

from .conftest import REPO, processes_marked, run_suite

pytestmark = pytest.mark.slow
PHASE = ["-m", "preflight"]


def _results(run_verdict: dict[str, object]) -> list[tuple[object, ...]]:
    rows = run_verdict["results"]
    assert isinstance(rows, list)
    return sorted((r["check_id"], r["resource"], r["outcome"]) for r in rows)


def test_in_process_and_xdist_agree(tmp_path: Path, demo_emulator: EmulatorProcess) -> None:
    alone = run_suite(PHASE, tmp_path / "alone", attach=demo_emulator)
    spread = run_suite([*PHASE, "-n", "3"], tmp_path / "spread", attach=demo_emulator)
    assert alone.returncode == spread.returncode == 0, alone.stdout[-2000:] + spread.stdout[-2000:]
    assert _results(alone.verdict) == _results(spread.verdict)
    calls_alone = alone.json("api-calls.json")
    calls_spread = spread.json("api-calls.json")
    assert calls_alone["total_calls"] == calls_spread["total_calls"] > 0
    # One snapshot, on the controller: every request made once.
    assert calls_spread["total_calls"] == calls_spread["distinct_requests"]
    assert calls_spread["mutating_calls"] == []


def test_snapshot_replay_makes_no_call(tmp_path: Path, demo_emulator: EmulatorProcess) -> None:
    live = run_suite(PHASE, tmp_path / "live", attach=demo_emulator)
    assert live.returncode == 0
    snapshot = tmp_path / "live" / "inventory.json"
    replay = run_suite([*PHASE, f"--snapshot={snapshot}"], tmp_path / "replay")
    assert replay.returncode == 0, replay.stdout[-3000:]
    assert _results(replay.verdict) == _results(live.verdict)
    assert not (tmp_path / "replay" / "api-calls.json").exists()
    assert "replayed" not in replay.stderr


def test_unreadable_snapshot_is_a_clear_no_go(tmp_path: Path) -> None:
    bad = tmp_path / "inventory.json"
    bad.write_text("{not json")
    run = run_suite([*PHASE, f"--snapshot={bad}"], tmp_path / "out")
    assert run.returncode == 2
    assert "cannot be read as JSON" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert run.verdict["verdict"] == "NO_GO"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "staging"], "no environment 'staging'"),
        (["--window", "3d"], "--window '3d'"),
    ],
)
def test_bad_run_input_is_one_message_and_no_go(
    tmp_path: Path, args: list[str], message: str
) -> None:
    run = run_suite([*PHASE, *args], tmp_path / "out")
    assert run.returncode == 2
    assert message in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert any(message in p for p in run.verdict["problems"])


def test_broken_config_file_is_a_clear_no_go(tmp_path: Path) -> None:
    config = tmp_path / "readiness.toml"
    config.write_text("[environments.local]\naccount_id = '123'\nregions = ['us-east-1']\n")
    run = run_suite([*PHASE, f"--config={config}"], tmp_path / "out")
    assert run.returncode == 2
    assert "environments.local.account_id: must be the 12-digit AWS account id" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_wrong_account_is_refused(tmp_path: Path, demo_emulator: EmulatorProcess) -> None:
    config = tmp_path / "readiness.toml"
    local = '"123456789012"\nregions = ["us-east-1", "us-west-2"]\nemulator = { seed = "demo" }'
    text = (REPO / "readiness.toml").read_text()
    text = text.replace(local, local.replace("123456789012", "317805897534"), 1)
    config.write_text(text)
    run = run_suite([*PHASE, f"--config={config}"], tmp_path / "out", attach=demo_emulator)
    assert run.returncode == 2
    assert "refusing to read: the credentials belong to account 123456789012" in run.stdout
    outcomes = {r["check_id"]: r["outcome"] for r in run.verdict["results"]}
    assert outcomes["preflight-account-matches"] == "failed"
    calls = run.json("api-calls.json")
    assert calls["by_operation"] == {"sts:GetCallerIdentity": 1}


@pytest.mark.parametrize("ending", ["passed", "failed"])
def test_no_emulator_left_after_a_run(tmp_path: Path, test_mark: str, ending: str) -> None:
    args = list(PHASE) if ending == "passed" else [*PHASE, "--env", "local-empty"]
    run = run_suite(args, tmp_path / "out", env={"READINESS_TEST_MARK": test_mark})
    assert run.returncode == (0 if ending == "passed" else 2), run.stdout[-2000:]
    assert processes_marked(test_mark) == []


def test_no_emulator_left_after_an_interrupt(tmp_path: Path, test_mark: str) -> None:
    env = dict(os.environ, READINESS_TEST_MARK=test_mark)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            *PHASE,
            "-p",
            "no:cacheprovider",
            f"--report-dir={tmp_path / 'out'}",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 180  # a loaded CI machine starts pytest slowly
    while len(processes_marked(test_mark)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # wait for the emulator child to exist
    assert len(processes_marked(test_mark)) >= 2
    child.send_signal(signal.SIGINT)
    output, _ = child.communicate(timeout=60)
    assert child.returncode != 0
    deadline = time.monotonic() + 10
    while processes_marked(test_mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_marked(test_mark) == [], output[-2000:]


def test_emulator_dies_with_a_killed_parent(tmp_path: Path, test_mark: str) -> None:
    script = (
        "from readiness.emulator import EmulatorProcess\n"
        "import time\n"
        "e = EmulatorProcess.start('empty')\n"
        "print(e.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = dict(os.environ, READINESS_TEST_MARK=test_mark)
    parent = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    emulator_pid = int(parent.stdout.readline())
    assert emulator_pid in processes_marked(test_mark)
    parent.kill()
    parent.wait(timeout=10)
    deadline = time.monotonic() + 15
    while processes_marked(test_mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_marked(test_mark) == []
