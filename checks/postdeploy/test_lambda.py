"""Lambda after the deploy: active, updated, executing, and failing under the threshold."""

import pytest

from readiness.config import Thresholds
from readiness.inventory.collectors.metrics import KIND as METRICS
from readiness.inventory.collectors.metrics import total
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.postdeploy]
REFERENCES = [
    "https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html",
    "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
]


def _metrics(inventory: Snapshot, resource: Resource) -> Resource:
    for gap in inventory.gaps(METRICS):
        if gap.region == resource.region:
            raise NotEvaluated(gap.message())
    for record in inventory.resources(METRICS):
        if record.region == resource.region and record.id == resource.id:
            return record
    raise NotEvaluated(f"{resource.label}: no metrics were read for this function")


@pytest.mark.critical
@pytest.mark.check(
    id="lambda-active",
    title="Lambda functions are Active and their last update succeeded",
    category="postdeploy",
    risk="A function that is not Active, or whose update failed, rejects or runs old code.",
    remediation="aws lambda get-function-configuration --function-name NAME: read "
    "StateReason and LastUpdateStatusReason.",
    references=REFERENCES,
)
@pytest.mark.resources("lambda.functions")
def test_lambda_active(resource: Resource) -> None:
    state = resource.need("State")
    update = resource.need("LastUpdateStatus")
    if state is None:
        raise NotEvaluated(f"{resource.label}: State was not returned")
    assert state == "Active", f"{resource.label} is {state}: {resource.get('StateReason', '')}"
    assert update in (None, "Successful"), (
        f"{resource.label}: last update {update}: {resource.get('LastUpdateStatusReason', '')}"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="lambda-invocations",
    title="Lambda functions were invoked in the window",
    category="postdeploy",
    risk="A function nobody calls after a deploy is a trigger that broke (event source "
    "mapping, schedule, permissions).",
    remediation="Check the function's triggers (aws lambda list-event-source-mappings "
    "--function-name NAME) and its resource policy.",
    references=REFERENCES,
)
@pytest.mark.resources("lambda.functions")
def test_lambda_invocations(resource: Resource, inventory: Snapshot) -> None:
    metrics = _metrics(inventory, resource)
    invocations = total(metrics.need("Invocations") or [])
    hours = metrics.get("WindowHours", "?")
    assert invocations > 0, f"{resource.label}: no invocation in the last {hours} h"


@pytest.mark.critical
@pytest.mark.check(
    id="lambda-error-rate",
    title="Lambda error rate over the window is under the threshold",
    category="postdeploy",
    risk="Errors above the threshold after a deploy: the new code fails for real traffic.",
    remediation="Read the function's recent errors in CloudWatch Logs (triage below); roll "
    "back the function version or alias if the deploy caused it.",
    references=REFERENCES,
)
@pytest.mark.resources("lambda.functions")
def test_lambda_error_rate(resource: Resource, inventory: Snapshot, thresholds: Thresholds) -> None:
    metrics = _metrics(inventory, resource)
    invocations = total(metrics.need("Invocations") or [])
    errors = total(metrics.need("Errors") or [])
    hours = metrics.get("WindowHours", "?")
    if invocations <= 0 and errors <= 0:
        # Read, and nothing ran: no rate to judge; lambda-invocations reports the silence.
        pytest.skip(f"not-applicable: {resource.label} was not invoked in the last {hours} h")
    assert invocations > 0, f"{resource.label}: {errors:.0f} errors and no invocation recorded"
    rate = 100.0 * errors / invocations
    limit = thresholds.lambda_error_rate_percent
    assert rate <= limit, (
        f"{resource.label}: {rate:.1f} % of {invocations:.0f} invocations failed in the last "
        f"{hours} h (limit {limit:g} %)"
    )
