"""The emulator's canary runs and GuardDuty findings answer the way AWS does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from readiness.emulator import ControlError, EmulatorControl, EmulatorProcess


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("empty") as running:
        yield running


@pytest.fixture(scope="module")
def control(emulator: EmulatorProcess) -> EmulatorControl:
    return EmulatorControl(emulator.endpoint)


def _canary(control: EmulatorControl, name: str, region: str = "us-east-1") -> None:
    control.client("synthetics", region).create_canary(
        Name=name,
        Code={"Handler": "index.handler", "ZipFile": b"PK"},
        ArtifactS3Location="s3://bucket/canary",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/canary",
        Schedule={"Expression": "rate(5 minutes)"},
        RuntimeVersion="syn-nodejs-puppeteer-9.1",
    )


def _runs(count: int, now: dt.datetime, failed_every: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "state": "FAILED" if failed_every and i % failed_every == 0 else "PASSED",
            "started": (now - dt.timedelta(minutes=5 * i)).isoformat(),
        }
        for i in range(count)
    ]


def test_canary_runs_page_newest_first(control: EmulatorControl) -> None:
    _canary(control, "paged-health")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    control.call("synthetics-canary-runs", canary="paged-health", runs=_runs(250, now, 7))
    synthetics = control.client("synthetics")
    seen: list[dict[str, Any]] = []
    token: str | None = None
    pages = 0
    while True:
        extra = {"NextToken": token} if token else {}
        page = synthetics.get_canary_runs(Name="paged-health", MaxResults=100, **extra)
        pages += 1
        seen += page["CanaryRuns"]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert len(seen) == 250
    starts = [r["Timeline"]["Started"] for r in seen]
    assert starts == sorted(starts, reverse=True)
    assert seen[0]["Status"]["State"] == "FAILED"  # i == 0 is a failed run
    assert seen[0]["Status"]["StateReasonCode"] == "CANARY_FAILURE"
    assert seen[1]["Status"]["State"] == "PASSED"
    assert abs(seen[0]["Timeline"]["Started"].timestamp() - now.timestamp()) < 1
    default = synthetics.get_canary_runs(Name="paged-health")
    assert len(default["CanaryRuns"]) == 20  # AWS's default page


def test_last_run_is_the_newest_and_only_for_canaries_that_ran(
    control: EmulatorControl,
) -> None:
    _canary(control, "last-health")
    _canary(control, "idle-health")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    control.call("synthetics-canary-runs", canary="last-health", runs=_runs(3, now))
    answer = control.client("synthetics").describe_canaries_last_run(
        Names=["last-health", "idle-health"]
    )
    last = {e["CanaryName"]: e["LastRun"] for e in answer["CanariesLastRun"]}
    assert set(last) == {"last-health"}
    assert last["last-health"]["Status"]["State"] == "PASSED"
    assert abs(last["last-health"]["Timeline"]["Started"].timestamp() - now.timestamp()) < 1


def test_runs_of_an_unknown_canary_are_not_found(control: EmulatorControl) -> None:
    with pytest.raises(ClientError) as caught:
        control.client("synthetics").get_canary_runs(Name="no-such-canary")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ControlError):
        control.call("synthetics-canary-runs", canary="no-such-canary", runs=[])


def test_bad_page_size_is_refused(control: EmulatorControl) -> None:
    _canary(control, "size-health")
    with pytest.raises(ClientError) as caught:
        control.client("synthetics").get_canary_runs(Name="size-health", MaxResults=101)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_guardduty_findings_filter_by_severity_date_and_archive(
    control: EmulatorControl,
) -> None:
    guardduty = control.client("guardduty", "us-west-2")
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    now = dt.datetime.now(dt.UTC)
    old = (now - dt.timedelta(days=3)).isoformat()
    control.call(
        "guardduty-findings",
        region="us-west-2",
        findings=[
            {"type": "Recon:EC2/PortProbeUnprotectedPort", "severity": 2.0},
            {"type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 8.0},
            {"type": "Backdoor:EC2/C&CActivity.B", "severity": 8.5, "created": old},
            {"type": "CryptoCurrency:EC2/BitcoinTool.B", "severity": 7.5, "archived": True},
        ],
    )
    since = int((now - dt.timedelta(hours=2)).timestamp() * 1000)
    criteria = {
        "Criterion": {
            "severity": {"GreaterThanOrEqual": 7},
            "createdAt": {"GreaterThanOrEqual": since},
            "service.archived": {"Equals": ["false"]},
        }
    }
    ids = guardduty.list_findings(DetectorId=detector, FindingCriteria=criteria)["FindingIds"]
    assert len(ids) == 1
    found = guardduty.get_findings(DetectorId=detector, FindingIds=ids)["Findings"]
    assert found[0]["Type"] == "UnauthorizedAccess:EC2/SSHBruteForce"
    assert found[0]["Severity"] == 8.0
    assert found[0]["Service"]["Archived"] is False
    everything = guardduty.list_findings(DetectorId=detector)["FindingIds"]
    assert len(everything) == 4
    paged = guardduty.get_paginator("list_findings").paginate(
        DetectorId=detector, PaginationConfig={"PageSize": 3}
    )
    assert [len(p["FindingIds"]) for p in paged] == [3, 1]


def test_guardduty_refuses_unknown_detectors_and_criteria(control: EmulatorControl) -> None:
    guardduty = control.client("guardduty", "us-east-1")
    with pytest.raises(ClientError) as caught:
        guardduty.list_findings(DetectorId="0" * 32)
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    detector = guardduty.create_detector(Enable=True)["DetectorId"]
    with pytest.raises(ClientError):
        guardduty.list_findings(
            DetectorId=detector, FindingCriteria={"Criterion": {"resource.nope": {"Eq": ["x"]}}}
        )
    with pytest.raises(ControlError):
        control.call("guardduty-findings", region="us-east-1", detector_id="nope", findings=[])


def _context(emulator: EmulatorProcess, hours: int) -> Any:
    from readiness.aws.access import AwsAccess
    from readiness.config import Emulator, Environment
    from readiness.inventory.collect import CollectContext
    from readiness.inventory.fetch import Fetcher

    env = Environment(
        account_id="123456789012", regions=["us-east-1"], emulator=Emulator(seed="empty")
    )
    access = AwsAccess(env, endpoint_url=emulator.endpoint, read_only=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return CollectContext(fetch=Fetcher(access), env=env, now=now, window_hours=hours)


def test_the_collector_pages_the_run_history_back_to_the_window_start(
    emulator: EmulatorProcess, control: EmulatorControl
) -> None:
    from readiness.inventory.collectors.synthetics_runs import _runs_in_window

    _canary(control, "history-health")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=30)
    control.call("synthetics-canary-runs", canary="history-health", runs=_runs(250, now, 7))
    day = _runs_in_window(_context(emulator, 24), "us-east-1", "history-health")
    assert (day["Total"], day["Pages"]) == (250, 3)  # 250 runs over 21 h: every page read
    assert day["Failed"] == len(range(0, 250, 7))
    assert len(day["FailedRuns"]) == 5
    short = _runs_in_window(_context(emulator, 2), "us-east-1", "history-health")
    assert short["Pages"] == 1  # the first page already reaches past the window start
    assert short["Total"] in (24, 25)
