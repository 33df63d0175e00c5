"""The compute criteria through the real gate on the three demo stacks: `demo` passes all
of them, `demo-risky` fails only warnings, `demo-broken` fails the criticals it plants."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from deploy_steps.gate import GateResult, run_phase

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHECK_FILES = (
    "checks/audit/infrastructure/test_ecs.py",
    "checks/audit/infrastructure/test_load_balancers.py",
    "checks/audit/infrastructure/test_lambda.py",
    "checks/audit/security/test_waf.py",
    "checks/audit/monitoring/test_compute_alarms.py",
)
CHECK_IDS = {
    "ecs-service-circuit-breaker",
    "ecs-service-min-tasks",
    "ecs-service-multi-az",
    "ecs-service-autoscaling",
    "ecs-cluster-container-insights",
    "elbv2-deletion-protection",
    "elbv2-multi-az",
    "lambda-async-failure-destination",
    "waf-rate-limit-public-alb",
    "ecs-service-cpu-alarm",
    "ecs-service-memory-alarm",
    "lambda-errors-alarm",
}
WORKER = "us-east-1/prod-cluster/worker"
RISKY = {
    ("ecs-cluster-container-insights", "us-east-1/prod-cluster", "warning"),
    ("ecs-service-min-tasks", WORKER, "warning"),
    ("ecs-service-autoscaling", WORKER, "warning"),
    ("ecs-service-memory-alarm", WORKER, "warning"),
    ("lambda-async-failure-destination", "us-east-1/prod-report-builder", "warning"),
}
BROKEN = {
    ("ecs-service-circuit-breaker", "us-east-1/prod-cluster/api", "critical"),
    ("elbv2-deletion-protection", "us-east-1/prod-alb", "critical"),
    ("waf-rate-limit-public-alb", "us-east-1/prod-alb", "warning"),
    ("lambda-errors-alarm", "us-east-1/prod-image-resizer", "warning"),
}
ENVIRONMENTS = ("local", "local-risky", "local-broken")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[GateResult, Path]]:
    # TempPathFactory is not thread-safe: make every folder before the threads start.
    outs = {env: tmp_path_factory.mktemp(env) for env in ENVIRONMENTS}

    def run(env: str) -> tuple[GateResult, Path]:
        extra = [*CHECK_FILES, "--allow-partial", "-p", "no:cacheprovider", "-q"]
        return run_phase("audit", env, outs[env], extra, cwd=ROOT), outs[env]

    with ThreadPoolExecutor(max_workers=len(ENVIRONMENTS)) as pool:
        return dict(zip(ENVIRONMENTS, pool.map(run, ENVIRONMENTS), strict=True))


def mine(result: GateResult) -> list[dict[str, Any]]:
    assert result.verdict is not None, result.reason
    return [r for r in result.verdict["results"] if r["check_id"] in CHECK_IDS]


def failures(result: GateResult) -> set[tuple[str, str, str]]:
    return {
        (r["check_id"], r["resource"], r["severity"])
        for r in mine(result)
        if r["outcome"] != "passed"
    }


def test_demo_passes_every_compute_criterion(runs: dict[str, tuple[GateResult, Path]]) -> None:
    result, _ = runs["local"]
    assert {r["check_id"] for r in mine(result)} == CHECK_IDS
    assert failures(result) == set()
    assert result.exit_code == 0, result.verdict


def test_risky_fails_only_the_warnings_it_plants(runs: dict[str, tuple[GateResult, Path]]) -> None:
    result, _ = runs["local-risky"]
    assert failures(result) == RISKY
    assert result.exit_code == 1, result.verdict


def test_broken_fails_its_criticals_naming_the_resource(
    runs: dict[str, tuple[GateResult, Path]],
) -> None:
    result, _ = runs["local-broken"]
    assert failures(result) == BROKEN
    for r in mine(result):
        if r["outcome"] == "failed":
            assert r["resource"] in r["message"]
    assert result.exit_code == 2, result.verdict


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_audit_only_reads_and_asks_each_request_once(
    runs: dict[str, tuple[GateResult, Path]], env: str
) -> None:
    _, out = runs[env]
    ledger = json.loads((out / "api-calls.json").read_text())
    assert ledger["mutating_calls"] == []
    assert ledger["repeated_requests"] == []
    assert ledger["total_calls"] == ledger["distinct_requests"]
