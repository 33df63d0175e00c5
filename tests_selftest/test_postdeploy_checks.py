"""Every post-deploy check passes on the demo stack, fails on a planted problem, and is
not-evaluated when its data is missing: on the emulator, then on replayed snapshots for
what the emulator cannot plant (a function that failed its update, Cost Explorer's
forecast)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from readiness.emulator import EmulatorControl, EmulatorProcess

from .conftest import SuiteRun, run_suite

pytestmark = pytest.mark.slow

Outcomes = dict[tuple[str, str], str]
EAST, WEST = "us-east-1", "us-west-2"


def outcomes(run: SuiteRun) -> Outcomes:
    return {(r["check_id"], r["resource"]): r["outcome"] for r in run.verdict["results"]}


def messages(run: SuiteRun) -> dict[tuple[str, str], str]:
    return {(r["check_id"], r["resource"]): r["message"] for r in run.verdict["results"]}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("demo") as running:
        yield running


@pytest.fixture(scope="module")
def clean_run(emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    out = tmp_path_factory.mktemp("postdeploy-clean")
    return run_suite(["-m", "postdeploy", "--env", "local", "-q"], out, attach=emulator)


def plant_problems(control: EmulatorControl) -> None:
    now = dt.datetime.now(dt.UTC)
    control.call(
        "ecs-service-state",
        cluster="prod-cluster",
        service="worker",
        runningCount=1,
        rolloutState="FAILED",
        failedTasks=2,
    )
    cloudwatch = control.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName="prod-db-cpu-high", StateValue="ALARM", StateReason="t")
    synthetics = control.client("synthetics")
    synthetics.create_canary(
        Name="prod-new-health",
        Code={"Handler": "index.handler", "ZipFile": b"PK"},
        ArtifactS3Location="s3://prod-logs-123456789012/canaries/new",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/prod-canary",
        Schedule={"Expression": "rate(5 minutes)"},
        RuntimeVersion="syn-nodejs-puppeteer-9.1",
    )
    control.call(
        "synthetics-canary-runs",
        canary="prod-web-health",
        runs=[{"state": "FAILED", "started": now.isoformat(), "reason": "timeout"}],
    )
    lam = control.client("lambda")
    role = control.client("iam").get_role(RoleName="lambda-exec")["Role"]["Arn"]
    lam.create_function(
        FunctionName="prod-fresh",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": b"PK"},
    )
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": "prod-report-builder"}],
                "Timestamp": now - dt.timedelta(minutes=3),
                "Value": 50.0,
            }
        ],
    )
    west = control.client("guardduty", WEST)
    for detector in west.list_detectors()["DetectorIds"]:
        west.delete_detector(DetectorId=detector)
    control.call(
        "guardduty-findings",
        region=EAST,
        findings=[{"type": "Backdoor:EC2/C&CActivity.B", "severity": 9.0}],
    )
    control.client("securityhub", WEST).disable_security_hub()
    control.client("securityhub").batch_import_findings(
        Findings=[
            {
                "SchemaVersion": "2018-10-08",
                "Id": "finding-1",
                "ProductArn": f"arn:aws:securityhub:{EAST}:123456789012:product/"
                "123456789012/default",
                "GeneratorId": "readiness-test",
                "AwsAccountId": "123456789012",
                "Types": ["Software and Configuration Checks"],
                "CreatedAt": now.isoformat(),
                "UpdatedAt": now.isoformat(),
                "Severity": {"Label": "CRITICAL"},
                "Title": "S3 bucket made public",
                "Description": "A bucket policy allows anyone to read",
                "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::prod-assets"}],
                "RecordState": "ACTIVE",
            }
        ]
    )


@pytest.fixture(scope="module")
def problem_run(
    emulator: EmulatorProcess, clean_run: SuiteRun, tmp_path_factory: pytest.TempPathFactory
) -> SuiteRun:
    plant_problems(EmulatorControl(emulator.endpoint))
    out = tmp_path_factory.mktemp("postdeploy-problems")
    return run_suite(["-m", "postdeploy", "--env", "local", "-q"], out, attach=emulator)


def test_the_demo_stack_passes_every_postdeploy_check(clean_run: SuiteRun) -> None:
    seen = outcomes(clean_run)
    ids = {check for check, _ in seen}
    assert ids >= {
        "canary-last-run",
        "canary-success-window",
        "canary-run-history",
        "alarm-not-firing",
        "ecs-rollout-completed",
        "ecs-running-desired",
        "ecs-no-failed-tasks",
        "ecs-deployments-stable",
        "lambda-active",
        "lambda-invocations",
        "lambda-error-rate",
        "guardduty-no-high-findings",
        "securityhub-no-critical-findings",
        "cost-month-under-limit",
    }
    bad = {k: v for k, v in seen.items() if v not in ("passed", "not-applicable")}
    assert bad == {}
    assert seen[("cost-month-under-limit", "month")] == "not-applicable"  # a 24 h review
    assert clean_run.verdict["exit_code"] == 0 == clean_run.returncode


EXPECTED_PROBLEMS = {
    ("ecs-rollout-completed", f"{EAST}/prod-cluster/worker"): "failed",
    ("ecs-running-desired", f"{EAST}/prod-cluster/worker"): "failed",
    ("ecs-no-failed-tasks", f"{EAST}/prod-cluster/worker"): "failed",
    ("ecs-deployments-stable", f"{EAST}/prod-cluster/worker"): "failed",
    ("alarm-not-firing", f"{EAST}/prod-db-cpu-high"): "failed",
    ("canary-last-run", f"{EAST}/prod-web-health"): "failed",
    ("canary-last-run", f"{EAST}/prod-new-health"): "not-evaluated",
    ("canary-success-window", f"{EAST}/prod-new-health"): "not-evaluated",
    ("canary-run-history", f"{EAST}/prod-new-health"): "not-evaluated",
    ("lambda-invocations", f"{EAST}/prod-fresh"): "failed",
    ("lambda-error-rate", f"{EAST}/prod-report-builder"): "failed",
    ("guardduty-no-high-findings", f"{EAST}/guardduty"): "failed",
    ("guardduty-no-high-findings", f"{WEST}/guardduty"): "not-evaluated",
    ("securityhub-no-critical-findings", f"{EAST}/securityhub"): "failed",
    ("securityhub-no-critical-findings", f"{WEST}/(unreadable)"): "not-evaluated",
}


def test_planted_problems_fail_and_missing_data_is_not_evaluated(problem_run: SuiteRun) -> None:
    seen = outcomes(problem_run)
    got = {k: seen.get(k) for k in EXPECTED_PROBLEMS}
    assert got == EXPECTED_PROBLEMS
    bad = {k for k, v in seen.items() if v not in ("passed", "not-applicable")}
    assert bad == set(EXPECTED_PROBLEMS)
    assert seen[("lambda-error-rate", f"{EAST}/prod-fresh")] == "not-applicable"  # never ran
    assert problem_run.verdict["exit_code"] == 2 == problem_run.returncode


def test_failures_name_their_resource_and_cause(problem_run: SuiteRun) -> None:
    said = messages(problem_run)
    assert "1 of 2 tasks running" in said[("ecs-running-desired", f"{EAST}/prod-cluster/worker")]
    assert "Backdoor:EC2/C&CActivity.B" in said[("guardduty-no-high-findings", f"{EAST}/guardduty")]
    assert "GuardDuty is not enabled" in said[("guardduty-no-high-findings", f"{WEST}/guardduty")]
    assert (
        "S3 bucket made public" in said[("securityhub-no-critical-findings", f"{EAST}/securityhub")]
    )
    for (check, resource), outcome in outcomes(problem_run).items():
        if outcome == "failed":
            assert resource.split("/", 1)[-1] in said[(check, resource)], check


def test_a_failed_run_carries_triage_and_the_canary_chart(problem_run: SuiteRun) -> None:
    summary = (problem_run.out / "summary.md").read_text()
    assert "Triage:" in summary
    assert "prod-db-cpu-high" in summary.split("Alarms in ALARM", 1)[1]
    assert "ECS us-east-1/prod-cluster/worker: 1/2 running, rollout FAILED" in summary
    html = (problem_run.out / "readiness.html").read_text()
    assert "canary-chart" in html and "threshold" in html


# -- replayed snapshots: what the emulator cannot plant -----------------------------------


def _replay(clean_run: SuiteRun, tmp: Path, edit: Any) -> SuiteRun:
    snapshot = json.loads((clean_run.out / "inventory.json").read_text())
    edit(snapshot)
    path = tmp / "inventory.json"
    path.write_text(json.dumps(snapshot))
    out = tmp / "out"
    return run_suite(
        ["-m", "postdeploy", "--env", "local", f"--snapshot={path}", "-q"], out, timeout=120
    )


def _outlook(spent: Any, forecast: Any, unavailable: dict[str, str] | None = None) -> Any:
    data: dict[str, Any] = {"Reviewed": True, "MonthToDateUsd": spent, "ForecastUsd": forecast}
    if unavailable:
        data["_unavailable"] = unavailable
    return data


def test_lambda_state_alarms_and_cost_on_replayed_snapshots(
    clean_run: SuiteRun, tmp_path: Path
) -> None:
    def edit(snapshot: dict[str, Any]) -> None:
        snapshot["window_hours"] = 24
        functions = snapshot["kinds"]["lambda.functions"][EAST]["records"]
        failed = copy.deepcopy(functions[0])
        failed["id"] = "prod-broken-update"
        failed["data"].update(LastUpdateStatus="Failed", LastUpdateStatusReason="bad zip")
        pending = copy.deepcopy(functions[0])
        pending["id"] = "prod-pending"
        pending["data"].update(State="Pending")
        unknown = copy.deepcopy(functions[0])
        unknown["id"] = "prod-unknown"
        unknown["data"]["_unavailable"] = {"State": "lambda:GetFunctionConfiguration: denied"}
        functions += [failed, pending, unknown]
        metrics = snapshot["kinds"]["lambda.window_metrics"][EAST]["records"]
        for record in metrics:
            if record["id"] == "prod-report-builder":
                record["data"]["_unavailable"] = {"Errors": "cloudwatch: throttled"}
        alarms = snapshot["kinds"]["cloudwatch.metric_alarms"][EAST]["records"]
        alarms.append(
            {
                "id": "prod-app-degraded",
                "data": {
                    "AlarmName": "prod-app-degraded",
                    "AlarmKind": "composite",
                    "AlarmRule": 'ALARM("prod-db-cpu-high")',
                    "StateValue": "ALARM",
                    "StateReason": "database degraded",
                },
            }
        )
        alarms.append({"id": "prod-stateless", "data": {"AlarmName": "prod-stateless"}})
        snapshot["kinds"]["ce.month_outlook"] = {
            "global": {
                "records": [
                    {"id": "under", "data": _outlook(180.0, 200.0)},
                    {"id": "over", "data": _outlook(320.0, 260.0)},
                    {"id": "no-forecast", "data": _outlook(100.0, None, {"ForecastUsd": "500"})},
                    {"id": "no-figure", "data": _outlook(None, 10.0)},
                ]
            }
        }

    run = _replay(clean_run, tmp_path, edit)
    seen = outcomes(run)
    assert seen[("lambda-active", f"{EAST}/prod-broken-update")] == "failed"
    assert seen[("lambda-active", f"{EAST}/prod-pending")] == "failed"
    assert seen[("lambda-active", f"{EAST}/prod-unknown")] == "not-evaluated"
    assert seen[("lambda-active", f"{EAST}/prod-image-resizer")] == "passed"
    assert seen[("lambda-error-rate", f"{EAST}/prod-report-builder")] == "not-evaluated"
    assert seen[("lambda-error-rate", f"{EAST}/prod-image-resizer")] == "passed"
    assert seen[("alarm-not-firing", f"{EAST}/prod-app-degraded")] == "failed"
    assert "composite alarm" in messages(run)[("alarm-not-firing", f"{EAST}/prod-app-degraded")]
    assert seen[("alarm-not-firing", f"{EAST}/prod-stateless")] == "not-evaluated"
    assert seen[("cost-month-under-limit", "under")] == "passed"
    assert seen[("cost-month-under-limit", "over")] == "failed"
    assert seen[("cost-month-under-limit", "no-forecast")] == "not-evaluated"
    assert seen[("cost-month-under-limit", "no-figure")] == "not-evaluated"
    assert "580.00 USD" in messages(run)[("cost-month-under-limit", "over")]


# -- the demo variants ------------------------------------------------------------------


@pytest.fixture(scope="module")
def variant_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SuiteRun]:
    envs = ("local-risky", "local-broken")
    outs = {env: tmp_path_factory.mktemp(env) for env in envs}

    def run(env: str) -> SuiteRun:
        return run_suite(["-m", "postdeploy", "--env", env, "-q"], outs[env])

    with ThreadPoolExecutor(max_workers=len(envs)) as pool:
        return dict(zip(envs, pool.map(run, envs), strict=True))


def _not_ok(run: SuiteRun) -> dict[tuple[str, str], str]:
    return {k: v for k, v in outcomes(run).items() if v not in ("passed", "not-applicable")}


def test_risky_stack_fails_only_its_warning(variant_runs: dict[str, SuiteRun]) -> None:
    run = variant_runs["local-risky"]
    assert _not_ok(run) == {("lambda-invocations", f"{EAST}/prod-report-builder"): "failed"}
    assert run.verdict["exit_code"] == 1 == run.returncode


def test_broken_stack_fails_with_named_causes(variant_runs: dict[str, SuiteRun]) -> None:
    run = variant_runs["local-broken"]
    # At least these (other areas' broken plants may add causes of their own).
    assert (
        _not_ok(run).items()
        >= {
            ("canary-last-run", f"{EAST}/prod-api-health"): "failed",
            ("canary-success-window", f"{EAST}/prod-api-health"): "failed",
            ("canary-run-history", f"{EAST}/prod-api-health"): "failed",
            ("lambda-error-rate", f"{EAST}/prod-image-resizer"): "failed",
            ("alarm-not-firing", f"{EAST}/prod-api-cpu-high"): "failed",
            ("guardduty-no-high-findings", f"{EAST}/guardduty"): "failed",
        }.items()
    )
    said = messages(run)
    assert "80.0 %" in said[("canary-success-window", f"{EAST}/prod-api-health")]
    assert "SSHBruteForce" in said[("guardduty-no-high-findings", f"{EAST}/guardduty")]
    assert run.verdict["exit_code"] == 2 == run.returncode
