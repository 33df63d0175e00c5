"""Compute collectors on answers moto cannot give: several pages, composite alarms,
dozens of load balancers, ECS describe failures and long event lists."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from readiness.aws.errors import FetchError, classify
from readiness.config import Emulator, Environment
from readiness.inventory.collect import CollectContext
from readiness.inventory.collectors.cloudwatch_alarms import (
    alarms_on,
    describe_all_alarms,
    notifies,
)
from readiness.inventory.collectors.ecs import ecs_services
from readiness.inventory.collectors.elbv2 import load_balancers
from readiness.inventory.collectors.lambda_functions import lambda_functions, without_secrets
from readiness.inventory.collectors.wafv2 import list_regional_web_acls
from readiness.inventory.model import Resource

Answer = Callable[[dict[str, Any]], Any]


class FakeFetch:
    """Stands in for Fetcher: answers per operation, and remembers what was asked."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def call(self, service: str, region: str, operation: str, **params: Any) -> Any:
        self.asked.append((operation, params))
        return self.answers[operation](params)

    def pages(self, service: str, region: str, operation: str, key: str, **params: Any) -> Any:
        return self.call(service, region, operation, **params)

    def all_pages(self, service: str, region: str, operation: str, **params: Any) -> Any:
        """Follows NextToken the way botocore's paginators do."""
        pages, token = [], None
        while True:
            page = self.call(
                service, region, operation, **params, **({"NextToken": token} if token else {})
            )
            pages.append(page)
            token = page.get("NextToken")
            if not token:
                return pages

    def count(self, operation: str) -> int:
        return sum(1 for op, _ in self.asked if op == operation)


def context(fetch: FakeFetch) -> CollectContext:
    env = Environment(
        name="unit", account_id="123456789012", regions=["us-east-1"], emulator=Emulator()
    )
    return CollectContext(
        fetch=fetch,  # type: ignore[arg-type]
        env=env,
        now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        window_hours=2,
    )


def client_error(code: str, status: int) -> FetchError:
    error = ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )
    return classify(error, "lambda:GetFunctionEventInvokeConfig")


# -- alarms -------------------------------------------------------------------------------


def test_alarms_of_every_page_are_kept_with_their_kind() -> None:
    pages = {
        None: {"MetricAlarms": [{"AlarmName": "m1"}], "NextToken": "t1"},
        "t1": {"CompositeAlarms": [{"AlarmName": "c1", "AlarmRule": 'ALARM("m1")'}]},
    }
    fetch = FakeFetch({"describe_alarms": lambda p: pages[p.get("NextToken")]})
    alarms = describe_all_alarms(context(fetch), "us-east-1")
    assert [(a["AlarmName"], a["AlarmKind"]) for a in alarms] == [
        ("m1", "metric"),
        ("c1", "composite"),
    ]
    assert all(p["AlarmTypes"] == ["MetricAlarm", "CompositeAlarm"] for _, p in fetch.asked)


def alarm(**data: Any) -> Resource:
    return Resource(kind="cloudwatch.metric_alarms", region="us-east-1", id="a", data=data)


def test_alarms_match_namespace_metric_and_included_dimensions() -> None:
    dims = [{"Name": "FunctionName", "Value": "f"}, {"Name": "Resource", "Value": "f:live"}]
    on_f = alarm(Namespace="AWS/Lambda", MetricName="Errors", Dimensions=dims)
    other = alarm(Namespace="AWS/Lambda", MetricName="Errors", Dimensions=dims[:0])
    custom = alarm(Namespace="Custom", MetricName="Errors", Dimensions=dims)
    found = alarms_on([on_f, other, custom], "AWS/Lambda", ("Errors",), {"FunctionName": "f"})
    assert found == [on_f]


def test_an_alarm_with_actions_disabled_notifies_nobody() -> None:
    assert notifies(alarm(AlarmActions=["arn:topic"]))
    assert not notifies(alarm(AlarmActions=["arn:topic"], ActionsEnabled=False))
    assert not notifies(alarm(AlarmActions=[]))


# -- WAF ----------------------------------------------------------------------------------


def test_web_acl_listing_follows_next_marker() -> None:
    pages = {
        None: {"WebACLs": [{"Name": "a"}], "NextMarker": "m1"},
        "m1": {"WebACLs": [{"Name": "b"}], "NextMarker": "m2"},
        "m2": {"WebACLs": []},
    }
    fetch = FakeFetch({"list_web_acls": lambda p: pages[p.get("NextMarker")]})
    assert [a["Name"] for a in list_regional_web_acls(context(fetch), "us-east-1")] == ["a", "b"]


# -- load balancers -----------------------------------------------------------------------


def test_load_balancer_tags_are_read_20_at_a_time() -> None:
    lbs = [
        {"LoadBalancerArn": f"arn:lb/{i}", "LoadBalancerName": f"lb{i}", "Type": "network"}
        for i in range(25)
    ]

    def tags(params: dict[str, Any]) -> dict[str, Any]:
        assert len(params["ResourceArns"]) <= 20
        return {
            "TagDescriptions": [
                {"ResourceArn": arn, "Tags": [{"Key": "Name", "Value": arn}]}
                for arn in params["ResourceArns"]
            ]
        }

    fetch = FakeFetch(
        {
            "describe_load_balancers": lambda p: lbs,
            "describe_load_balancer_attributes": lambda p: {"Attributes": []},
            "describe_tags": tags,
        }
    )
    found = list(load_balancers.read(context(fetch), "us-east-1"))
    assert [f.tags for f in found] == [{"Name": f"arn:lb/{i}"} for i in range(25)]
    # two batches, each asked with the same ARNs (the real Fetcher memoises the repeats)
    batches = {tuple(p["ResourceArns"]) for op, p in fetch.asked if op == "describe_tags"}
    arns = [lb["LoadBalancerArn"] for lb in lbs]
    assert batches == {tuple(arns[:20]), tuple(arns[20:])}


# -- ECS ----------------------------------------------------------------------------------


def ecs_fetch(failures: list[dict[str, Any]]) -> FakeFetch:
    events = [{"id": str(i), "message": f"event {i}"} for i in range(30)]
    service = {
        "serviceName": "api",
        "serviceArn": "arn:svc/api",
        "status": "ACTIVE",
        "events": events,
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    }
    return FakeFetch(
        {
            "list_clusters": lambda p: ["arn:aws:ecs:us-east-1:123456789012:cluster/c"],
            "list_services": lambda p: ["arn:svc/api", "arn:svc/gone"],
            "describe_services": lambda p: {"services": [service], "failures": failures},
            "describe_subnets": lambda p: [
                {"SubnetId": "subnet-1", "AvailabilityZone": "us-east-1a"}
            ],
        }
    )


def test_service_events_are_cut_to_the_20_most_recent() -> None:
    missing = [{"arn": "arn:svc/gone", "reason": "MISSING"}]
    (found,) = ecs_services.read(context(ecs_fetch(missing)), "us-east-1")
    assert found.id == "c/api"
    assert [e["id"] for e in found.data["events"]] == [str(i) for i in range(20)]
    assert found.data["SubnetZones"] == {"subnet-1": "us-east-1a"}


def test_a_describe_failure_other_than_missing_fails_the_kind() -> None:
    denied = [{"arn": "arn:svc/gone", "reason": "AccessDenied"}]
    with pytest.raises(FetchError, match="AccessDenied"):
        list(ecs_services.read(context(ecs_fetch(denied)), "us-east-1"))


# -- Lambda -------------------------------------------------------------------------------


def test_environment_values_are_dropped_and_names_kept() -> None:
    config = {"FunctionName": "f", "Environment": {"Variables": {"B": "x", "A": "y"}}}
    assert without_secrets(config)["Environment"] == {"VariableNames": ["A", "B"]}
    assert config["Environment"]["Variables"] == {"B": "x", "A": "y"}  # the input is untouched
    assert without_secrets({"FunctionName": "f"}) == {"FunctionName": "f"}


@pytest.mark.parametrize(
    ("error", "expected"),
    [("ResourceNotFoundException", "not configured"), ("AccessDeniedException", "unreadable")],
)
def test_invoke_config_not_found_means_none_but_denied_means_unknown(
    error: str, expected: str
) -> None:
    def invoke_config(params: dict[str, Any]) -> Any:
        raise client_error(error, 404 if error.startswith("Resource") else 403)

    fetch = FakeFetch(
        {
            "list_functions": lambda p: [{"FunctionName": "f", "FunctionArn": "arn:fn/f"}],
            "get_function_configuration": lambda p: {"FunctionName": "f", "State": "Active"},
            "get_function_event_invoke_config": invoke_config,
            "list_tags": lambda p: {"Tags": {}},
        }
    )
    (found,) = lambda_functions.read(context(fetch), "us-east-1")
    resource = Resource(kind="lambda.functions", region="us-east-1", id="f", data=found.data)
    if expected == "not configured":
        assert resource.need("EventInvokeConfig") is None
    else:
        with pytest.raises(Exception, match="access denied"):
            resource.need("EventInvokeConfig")
    assert resource.need("State") == "Active"
