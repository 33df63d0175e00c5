"""Canaries: the last run passed, and SuccessPercent over the window is above the bar."""

from typing import Any

import pytest

from readiness.config import Thresholds
from readiness.inventory.collectors.metrics import weighted_average
from readiness.inventory.model import NotEvaluated, Resource, Snapshot
from readiness.postdeploy.chart import success_chart
from readiness.postdeploy.window import canary_threshold, window_hours

pytestmark = [pytest.mark.postdeploy]
KIND = "synthetics.canary_health"
REFERENCES = [
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries.html",
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetCanaryRuns.html",
]


@pytest.mark.critical
@pytest.mark.check(
    id="canary-last-run",
    title="Every canary's last run passed",
    category="postdeploy",
    risk="A canary whose last run failed is a user journey that is broken right now.",
    remediation="Open the canary's last run in CloudWatch Synthetics (screenshots, HAR, "
    "logs); roll back if the failure started with the deploy.",
    references=REFERENCES,
)
@pytest.mark.resources(KIND)
def test_canary_last_run(resource: Resource) -> None:
    last = resource.need("LastRun")
    if not last:
        raise NotEvaluated(f"{resource.label} has no run recorded: nothing says it works")
    status = last.get("Status") or {}
    state = status.get("State")
    if state is None:
        raise NotEvaluated(f"{resource.label}: its last run has no state")
    started = (last.get("Timeline") or {}).get("Started", "?")
    assert state == "PASSED", (
        f"{resource.label}: last run ({started}) is {state}: {status.get('StateReason', '')}"
    )


@pytest.mark.critical
@pytest.mark.check(
    id="canary-success-window",
    title="Canary SuccessPercent over the window is above the threshold (2 h: 95 %, 24 h: 99 %)",
    category="postdeploy",
    risk="Users fail at this rate: below the bar the deploy is hurting production.",
    remediation="Look at the failing runs and the active alarms (triage below); roll back "
    "with `readiness rollback --journal out/deploy-journal.json` if the deploy caused it.",
    references=REFERENCES,
)
@pytest.mark.resources(KIND)
def test_canary_success_window(
    resource: Resource, inventory: Snapshot, thresholds: Thresholds, extras: list[Any]
) -> None:
    import pytest_html

    hours = window_hours(inventory)
    threshold = canary_threshold(thresholds, hours)
    points = resource.need("SuccessPercent") or []
    extras.append(pytest_html.extras.html(success_chart(resource.id, points, threshold, hours)))
    if len(points) < thresholds.min_canary_datapoints:
        raise NotEvaluated(
            f"{resource.label}: {len(points)} SuccessPercent datapoints in the last {hours} h "
            f"(at least {thresholds.min_canary_datapoints} needed)"
        )
    success = weighted_average(points)
    if success is None:
        raise NotEvaluated(f"{resource.label}: SuccessPercent datapoints carry no average")
    assert success >= threshold, (
        f"{resource.label}: SuccessPercent {success:.1f} % over the last {hours} h, "
        f"below {threshold:g} % ({len(points)} datapoints)"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="canary-run-history",
    title="Canaries ran through the window and their runs passed at the threshold rate",
    category="postdeploy",
    risk="A canary that stopped running, or whose runs fail, watches nothing.",
    remediation="aws synthetics start-canary --name NAME; look at the failed runs listed.",
    references=REFERENCES,
)
@pytest.mark.resources(KIND)
def test_canary_run_history(
    resource: Resource, inventory: Snapshot, thresholds: Thresholds
) -> None:
    hours = window_hours(inventory)
    runs = resource.need("Runs") or {}
    total = int(runs.get("Total", 0))
    if total < thresholds.min_canary_datapoints:
        raise NotEvaluated(
            f"{resource.label}: {total} runs in the last {hours} h "
            f"(at least {thresholds.min_canary_datapoints} needed)"
        )
    finished = int(runs.get("Passed", 0)) + int(runs.get("Failed", 0))
    rate = 100.0 * int(runs.get("Passed", 0)) / finished if finished else 0.0
    threshold = canary_threshold(thresholds, hours)
    first = (runs.get("FailedRuns") or [{}])[0]
    assert rate >= threshold, (
        f"{resource.label}: {runs.get('Failed')} of {finished} runs failed in the last {hours} h "
        f"({rate:.1f} % passed, below {threshold:g} %); first: {first.get('Started', '?')} "
        f"{first.get('Reason', '')}"
    )
