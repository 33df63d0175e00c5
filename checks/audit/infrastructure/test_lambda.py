"""Lambda: asynchronous invocations that fail are kept somewhere, not dropped."""

import pytest

from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit]


@pytest.mark.warning
@pytest.mark.check(
    id="lambda-async-failure-destination",
    title="Lambda functions keep failed asynchronous events (on-failure destination or DLQ)",
    category="infrastructure",
    risk="An asynchronous event that still fails after Lambda's retries is discarded: the "
    "work it stood for is lost without trace and cannot be replayed.",
    remediation="aws lambda put-function-event-invoke-config --function-name NAME "
    '--destination-config \'{"OnFailure":{"Destination":"QUEUE_OR_TOPIC_ARN"}}\' '
    "(terraform: aws_lambda_function_event_invoke_config destination_config on_failure; "
    "or dead_letter_config { target_arn = ... })",
    references=[
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/lambda-dlq-check.html",
    ],
)
@pytest.mark.resources("lambda.functions")
def test_lambda_async_failure_destination(resource: Resource) -> None:
    if (resource.get("DeadLetterConfig") or {}).get("TargetArn"):
        return
    config = resource.need("EventInvokeConfig") or {}
    on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    assert on_failure, (
        f"{resource.label} has neither an on-failure destination nor a dead-letter queue: "
        "failed asynchronous events are dropped"
    )
