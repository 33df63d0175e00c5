"""The gate starts the emulator beside pytest and hands it over (readiness/emulator/handoff.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy_steps import gate
from readiness.emulator import EmulatorError, handoff

from .conftest import REPO, processes_marked

REGIONS = ("us-east-1", "us-west-2")


def handed(path: Path, seed: str = "demo", regions: tuple[str, ...] = REGIONS) -> None:
    started = SimpleNamespace(
        endpoint="http://127.0.0.1:1", app_url="http://127.0.0.1:2", seed=seed
    )
    handoff.hand_over(path, started, regions)


def test_a_handed_emulator_is_attached(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    handed(path)
    attached = handoff.await_handover(path, "demo", ("us-east-1",), wait_s=1)
    assert attached is not None
    assert (attached.endpoint, attached.app_url, attached.seed) == (
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "demo",
    )


@pytest.mark.parametrize(
    ("seed", "regions"),
    [("demo-broken", REGIONS), ("demo", ("us-east-1", "eu-west-1"))],
    ids=["another seed", "a region it was not started for"],
)
def test_an_emulator_for_another_target_is_refused(
    tmp_path: Path, seed: str, regions: tuple[str, ...]
) -> None:
    path = tmp_path / "emulator.json"
    handed(path)
    assert handoff.await_handover(path, seed, regions, wait_s=1) is None


def test_nothing_handed_means_start_your_own(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    handoff.hand_over_nothing(path)
    assert handoff.await_handover(path, "demo", REGIONS, wait_s=1) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({"error": "port in use"}), "port in use"),
        ("{not json", "unreadable emulator hand-off"),
        ("[1]", "not an object"),
        (json.dumps({"endpoint": "http://127.0.0.1:1", "seed": "demo"}), "fields missing"),
    ],
)
def test_a_failed_or_broken_handover_is_an_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(content)
    with pytest.raises(EmulatorError, match=message):
        handoff.await_handover(path, "demo", REGIONS, wait_s=1)


def test_waiting_is_bounded(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(EmulatorError, match="within"):
        handoff.await_handover(tmp_path / "never.json", "demo", REGIONS, wait_s=0.3)
    assert time.monotonic() - started < 5


def test_a_late_handover_is_awaited(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    timer = threading.Timer(0.3, handed, args=(path,))
    timer.start()
    try:
        assert handoff.await_handover(path, "demo", REGIONS, wait_s=10) is not None
    finally:
        timer.cancel()


def test_the_gate_hands_its_emulator_to_the_run_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_mark: str
) -> None:
    """A real preflight through the gate: the run's target is the emulator the gate
    started, and no emulator outlives the gate."""
    endpoints: list[str] = []
    real_hand_over = handoff.hand_over

    def recording(path: Path, emulator: object, regions: tuple[str, ...]) -> None:
        endpoints.append(emulator.endpoint)  # type: ignore[attr-defined]
        real_hand_over(path, emulator, regions)

    monkeypatch.setattr(handoff, "hand_over", recording)
    monkeypatch.setenv("READINESS_TEST_MARK", test_mark)
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS", *os.environ):
        if name.startswith(("PYTEST_XDIST", "PYTEST_ADDOPTS", "READINESS_EMULATOR_")):
            monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"
    result = gate.run_phase("preflight", "local", out, ["-p", "no:cacheprovider"], cwd=REPO)
    assert result.reason == "" and result.exit_code == 0, result
    assert result.verdict is not None
    assert len(endpoints) == 1 and result.verdict["endpoint"] == endpoints[0]
    assert processes_marked(test_mark) == []


def test_the_gate_leaves_a_snapshot_run_alone(tmp_path: Path) -> None:
    assert gate.emulator_wanted("local", ["--snapshot=x.json"], REPO) is None
    assert gate.emulator_wanted("local", [], REPO) == ("demo", REGIONS)
    assert gate.emulator_wanted("no-such-env", [], REPO) is None
    assert gate.emulator_wanted("local", [], tmp_path) is None  # no readiness.toml there


def test_an_interrupted_gate_leaves_no_emulator(tmp_path: Path, test_mark: str) -> None:
    """Ctrl-C in a terminal reaches the whole process group: gate, pytest, emulator.

    Where the interrupt lands depends on the machine's speed (pytest still importing,
    waiting for the hand-off, or running); in every case the gate says NO-GO and no
    process is left."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_XDIST", "PYTEST_ADDOPTS", "READINESS_EMULATOR_"))
    }
    env["READINESS_TEST_MARK"] = test_mark
    readiness = Path(sys.executable).with_name("readiness")
    gate_run = subprocess.Popen(
        [str(readiness), "gate", "audit", "--env", "local", f"--report-dir={tmp_path / 'out'}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180  # a loaded machine starts Python slowly
    while len(processes_marked(test_mark)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)  # the gate, its pytest and its emulator
    assert len(processes_marked(test_mark)) >= 3
    time.sleep(2.5)  # about when pytest waits for the hand-off here
    os.killpg(gate_run.pid, signal.SIGINT)
    output, _ = gate_run.communicate(timeout=90)
    assert gate_run.returncode == 2, output[-2000:]
    deadline = time.monotonic() + 10
    while processes_marked(test_mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_marked(test_mark) == [], output[-2000:]
    assert "NO-GO" in output, output[-2000:]
