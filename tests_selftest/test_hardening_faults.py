"""Faults on the wire: throttling, 5xx, connection resets and latency spikes between the
audit and the emulator (bench/proxy.py). The verdict is the clean run's, or NO-GO with
the unreadable data named (CONDITIONAL GO when only warning checks could not read theirs,
as the verdict rules say); never a false GO, never a traceback, always within a bound."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.proxy import Faults, Proxy
from readiness.emulator import EmulatorProcess

from .conftest import SuiteRun, run_suite

pytestmark = pytest.mark.slow

TIME_BOUND_S = 180.0


def audit_through(emulator: EmulatorProcess, proxy: Proxy, out: Path) -> tuple[SuiteRun, float]:
    attach = dict(emulator.attach_environment(), READINESS_EMULATOR_ENDPOINT=proxy.url)
    started = time.monotonic()
    run = run_suite(["-m", "audit", "--env", "local"], out, env=attach, timeout=TIME_BOUND_S)
    return run, time.monotonic() - started


def assert_sound(run: SuiteRun, clean: str) -> None:
    assert "Traceback" not in run.stdout + run.stderr, run.stdout[-3000:] + run.stderr[-3000:]
    verdict = run.verdict
    assert verdict["complete"] is True
    assert run.returncode == verdict["exit_code"]
    assert verdict["verdict"] in (clean, "CONDITIONAL_GO", "NO_GO"), verdict["verdict"]
    if verdict["verdict"] != clean:
        counts = verdict["counts"]
        unreadable = counts["not-evaluated"] + counts["error"] + len(verdict["problems"])
        assert unreadable > 0, f"NO-GO without naming what could not be read: {verdict['reasons']}"


@pytest.fixture(scope="module")
def clean_verdict(demo_emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> str:
    with Proxy(demo_emulator.endpoint) as proxy:
        run, _ = audit_through(demo_emulator, proxy, tmp_path_factory.mktemp("clean"))
    assert run.verdict["verdict"] == "GO", run.stdout[-3000:]
    assert proxy.stats["requests"] > 0
    return "GO"


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(Faults(throttle=0.15), id="throttling"),
        pytest.param(Faults(server_error=0.15), id="5xx"),
        pytest.param(Faults(reset=0.1), id="resets"),
        pytest.param(Faults(spike=0.1, spike_s=1.5), id="latency-spikes"),
        pytest.param(
            Faults(throttle=0.1, server_error=0.05, reset=0.05, spike=0.05, spike_s=1.0),
            id="mixed",
        ),
    ],
)
def test_audit_under_faults_keeps_its_verdict_or_says_no_go(
    demo_emulator: EmulatorProcess, clean_verdict: str, faults: Faults, tmp_path: Path
) -> None:
    with Proxy(demo_emulator.endpoint, faults=faults, seed=7) as proxy:
        run, took = audit_through(demo_emulator, proxy, tmp_path)
    injected = sum(proxy.stats[k] for k in ("throttle", "server_error", "reset", "spike"))
    assert injected > 0, f"no fault was injected: {dict(proxy.stats)}"
    assert took < TIME_BOUND_S
    assert_sound(run, clean_verdict)


@pytest.mark.parametrize(
    ("operation", "expected", "code"),
    [
        pytest.param("DescribeDBInstances", "NO_GO", 2, id="critical-data"),
        pytest.param("DescribeLogGroups", "CONDITIONAL_GO", 1, id="warning-data"),
    ],
)
def test_a_read_throttled_past_its_retries_is_never_go(
    demo_emulator: EmulatorProcess, tmp_path: Path, operation: str, expected: str, code: int
) -> None:
    """Past the retries the data is unreadable: its checks are not-evaluated, and the
    verdict is NO-GO when critical checks needed it (CONDITIONAL when only warnings did)."""
    with Proxy(demo_emulator.endpoint, faults=Faults(throttle=1.0, match=operation)) as p:
        run, took = audit_through(demo_emulator, p, tmp_path)
    assert p.stats["throttle"] >= 2, dict(p.stats)
    assert took < TIME_BOUND_S
    assert "Traceback" not in run.stdout + run.stderr
    verdict = run.verdict
    assert verdict["verdict"] == expected, verdict["reasons"]
    assert run.returncode == code
    assert verdict["counts"]["not-evaluated"] > 0
    assert "not-evaluated" in " ".join(verdict["reasons"])


def test_every_connection_reset_is_no_go(demo_emulator: EmulatorProcess, tmp_path: Path) -> None:
    with Proxy(demo_emulator.endpoint, faults=Faults(reset=1.0)) as proxy:
        run, took = audit_through(demo_emulator, proxy, tmp_path)
    assert proxy.stats["reset"] > 0
    assert took < TIME_BOUND_S
    assert "Traceback" not in run.stdout + run.stderr
    assert run.verdict["verdict"] == "NO_GO"
    assert run.returncode == 2
