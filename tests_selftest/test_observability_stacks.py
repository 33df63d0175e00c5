"""The monitoring, cost and operations checks in whole audits of the three demo stacks:
`demo` passes every one of them (all evaluated), `demo-risky` fails only warnings,
`demo-broken` fails criticals, each naming its resource; every run reads each request
once and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import SuiteRun, area_results, assert_reads_once_and_only_reads, run_suite

pytestmark = pytest.mark.slow

CRITICAL = {
    "alarm-not-in-alarm",
    "canary-running",
    "cost-monthly-budget",
    "cost-actual-under-limit",
    "cost-forecast-under-limit",
}
WARNING = {
    "alarm-actions-notify",
    "log-group-retention",
    "log-group-exists",
    "cost-budget-notifies",
    "cost-allocation-tags",
    "runbook-configured",
    "on-call-configured",
}
WORKER_LOGS = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/prod-worker"


def _broken() -> set[tuple[str, str]]:
    failing = {
        ("alarm-not-in-alarm", "us-east-1/prod-api-cpu-high"),
        ("alarm-not-in-alarm", "us-east-1/prod-service-health"),
        ("canary-running", "web"),
    }
    today = dt.datetime.now(dt.UTC).date()
    last_day = (today + dt.timedelta(days=1)).day == 1
    if not last_day:  # 60 USD a day forecast: the month ends over 500 USD
        failing.add(("cost-forecast-under-limit", "month"))
    if 17 * today.day >= 500:  # 17 USD a day so far
        failing |= {("cost-actual-under-limit", "month"), ("cost-forecast-under-limit", "month")}
    return failing


FAILING = {
    "local": set(),
    "local-risky": {
        ("alarm-actions-notify", "us-east-1/prod-api-5xx"),
        ("log-group-retention", "us-east-1//ecs/prod-worker"),
        ("cost-allocation-tags", WORKER_LOGS),
        ("cost-budget-notifies", "monthly-production"),
    },
    "local-broken": _broken(),
}


@pytest.mark.parametrize("env", sorted(FAILING))
def test_demo_stack(demo_audit: Callable[[str], SuiteRun], env: str) -> None:
    run = demo_audit(env)
    results = area_results(run, CRITICAL, WARNING)
    failed = {(r["check_id"], r["resource"]) for r in results if r["outcome"] == "failed"}
    assert failed == FAILING[env], run.stdout[-3000:]
    others = {r["outcome"] for r in results if (r["check_id"], r["resource"]) not in failed}
    assert others == {"passed"}, run.stdout[-3000:]
    assert len([r for r in results if r["check_id"] == "cost-allocation-tags"]) >= 30
    assert_reads_once_and_only_reads(run)


def test_preflight_finds_the_expected_alarms_and_canaries(tmp_path: Path) -> None:
    run = run_suite(["-m", "preflight", "--env", "local"], tmp_path / "preflight")
    results = {
        (r["check_id"], r["resource"]): r["outcome"]
        for r in run.verdict["results"]
        if r["check_id"] in ("preflight-alarm-exists", "preflight-canary-exists")
    }
    assert results == {
        ("preflight-alarm-exists", "prod-api-cpu-high"): "passed",
        ("preflight-alarm-exists", "prod-db-cpu-high"): "passed",
        ("preflight-canary-exists", "prod-api-health"): "passed",
        ("preflight-canary-exists", "prod-web-health"): "passed",
    }, run.stdout[-3000:]
    assert run.returncode == 0
