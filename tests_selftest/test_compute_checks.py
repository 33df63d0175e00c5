"""The compute criteria on the emulator: for each, a compliant and a violating resource,
read by the real collectors, judged by the real check functions; and the reads that fail
(access denied) turn into not-evaluated, never into a pass."""

import importlib.util
import inspect
import io
import json
import math
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from readiness.aws.access import AwsAccess
from readiness.config import Emulator, Environment, Thresholds
from readiness.emulator.control import EmulatorControl
from readiness.emulator.process import EmulatorProcess
from readiness.inventory.collectors import by_kind
from readiness.inventory.model import NotEvaluated, Resource, Snapshot, Target
from readiness.inventory.runner import take_snapshot

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:selftest-alerts"
KINDS = (
    "ecs.clusters",
    "ecs.services",
    "autoscaling.ecs_targets",
    "elbv2.load_balancers",
    "wafv2.web_acls",
    "lambda.functions",
    "cloudwatch.metric_alarms",
)
MANY = 11  # services in one cluster: DescribeServices takes 10 at a time
SECRET = "s3cr3t-value-never-kept"


def load(relative: str) -> ModuleType:
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(f"compute_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = {
    "ECS": "checks/audit/infrastructure/test_ecs.py",
    "LB": "checks/audit/infrastructure/test_load_balancers.py",
    "LAMBDA": "checks/audit/infrastructure/test_lambda.py",
    "WAF": "checks/audit/security/test_waf.py",
    "ALARMS": "checks/audit/monitoring/test_compute_alarms.py",
}
# The check modules use the gate's markers, which this session (strict markers) lacks.
MARKERS = ("audit", "critical", "warning", "check", "resources")


@pytest.fixture(scope="module")
def checks(pytestconfig: pytest.Config) -> dict[str, ModuleType]:
    for name in MARKERS:
        pytestconfig.addinivalue_line("markers", f"{name}: a readiness check marker")
    return {key: load(path) for key, path in MODULES.items()}


def check_of(checks: dict[str, ModuleType], ref: str) -> Callable[..., None]:
    """`"ECS.test_x"` -> the function."""
    module, name = ref.split(".")
    function: Callable[..., None] = getattr(checks[module], name)
    return function


# -- the world: compliant and violating resources of every kind -----------------------


@dataclass
class World:
    control: EmulatorControl
    endpoint: str


def build(control: EmulatorControl) -> None:
    ec2 = control.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")
    b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24", AvailabilityZone="us-east-1b")
    subnet_a, subnet_b = a["Subnet"]["SubnetId"], b["Subnet"]["SubnetId"]
    build_ecs(control, subnet_a, subnet_b)
    build_load_balancers(control, subnet_a, subnet_b)
    build_lambda(control)
    build_alarms(control)


def build_ecs(control: EmulatorControl, subnet_a: str, subnet_b: str) -> None:
    ecs = control.client("ecs")
    for name, value in (
        ("cl-good", "enabled"),
        ("cl-enhanced", "enhanced"),
        ("cl-off", "disabled"),
    ):
        ecs.create_cluster(
            clusterName=name, settings=[{"name": "containerInsights", "value": value}]
        )
    ecs.create_cluster(clusterName="cl-unset")
    ecs.create_cluster(clusterName="cl-many")
    ecs.register_task_definition(
        family="td", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 256}]
    )
    breaker = {"enable": True, "rollback": True}

    def service(cluster: str, name: str, count: int, subnets: list[str], **extra: Any) -> None:
        ecs.create_service(
            cluster=cluster,
            serviceName=name,
            taskDefinition="td",
            desiredCount=count,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
            **extra,
        )

    both = [subnet_a, subnet_b]
    service(
        "cl-good", "svc-ok", 2, both, deploymentConfiguration={"deploymentCircuitBreaker": breaker}
    )
    service("cl-good", "svc-bad", 1, [subnet_a])  # no deployment configuration: breaker off
    service(
        "cl-good",
        "svc-norollback",
        2,
        both,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
    )
    service("cl-good", "svc-codedeploy", 2, both, deploymentController={"type": "CODE_DEPLOY"})
    for i in range(MANY):
        service("cl-many", f"m{i:02d}", 2, both)
    scaling = control.client("application-autoscaling")
    for name, low in (("svc-ok", 2), ("svc-bad", 1)):
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/cl-good/{name}",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=low,
            MaxCapacity=10,
        )


def visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def build_load_balancers(control: EmulatorControl, subnet_a: str, subnet_b: str) -> None:
    elb = control.client("elbv2")
    waf = control.client("wafv2")

    def lb(
        name: str, subnets: list[str], scheme: str = "internet-facing", kind: str = "application"
    ) -> str:
        answer = elb.create_load_balancer(Name=name, Subnets=subnets, Scheme=scheme, Type=kind)
        return str(answer["LoadBalancers"][0]["LoadBalancerArn"])

    def acl(name: str, rules: list[dict[str, Any]], resource: str) -> None:
        summary = waf.create_web_acl(
            Name=name,
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            Rules=rules,
            VisibilityConfig=visibility(name),
        )["Summary"]
        waf.associate_web_acl(WebACLArn=summary["ARN"], ResourceArn=resource)

    def rate(action: str) -> dict[str, Any]:
        return {
            "Name": "rate",
            "Priority": 0,
            "Statement": {"RateBasedStatement": {"Limit": 1000, "AggregateKeyType": "IP"}},
            "Action": {action: {}},
            "VisibilityConfig": visibility("rate"),
        }

    managed = {
        "Name": "common",
        "Priority": 1,
        "Statement": {
            "ManagedRuleGroupStatement": {
                "VendorName": "AWS",
                "Name": "AWSManagedRulesCommonRuleSet",
            }
        },
        "OverrideAction": {"None": {}},
        "VisibilityConfig": visibility("common"),
    }
    both = [subnet_a, subnet_b]
    ok = lb("alb-ok", both)
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=ok, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
    )
    acl("acl-block", [rate("Block"), managed], ok)
    lb("alb-open", both)
    acl("acl-count", [rate("Count")], lb("alb-count", both))
    acl("acl-norate", [managed], lb("alb-norate", both))
    lb("alb-internal", both, scheme="internal")
    lb("nlb-single", [subnet_a], scheme="internal", kind="network")


def build_lambda(control: EmulatorControl) -> None:
    control.client("iam").create_role(
        RoleName="selftest-lambda",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    lam = control.client("lambda")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")

    def function(name: str, **extra: Any) -> None:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=f"arn:aws:iam::{ACCOUNT}:role/selftest-lambda",
            Handler="index.handler",
            Code={"ZipFile": code.getvalue()},
            **extra,
        )

    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:selftest-failures"
    function("fn-dlq", DeadLetterConfig={"TargetArn": queue})
    function("fn-dest")
    lam.put_function_event_invoke_config(
        FunctionName="fn-dest", DestinationConfig={"OnFailure": {"Destination": queue}}
    )
    function("fn-success-only")
    lam.put_function_event_invoke_config(
        FunctionName="fn-success-only", DestinationConfig={"OnSuccess": {"Destination": queue}}
    )
    function("fn-none", Environment={"Variables": {"API_TOKEN": SECRET}})


def build_alarms(control: EmulatorControl) -> None:
    cw = control.client("cloudwatch")

    def dims(**values: str) -> list[dict[str, str]]:
        return [{"Name": k, "Value": v} for k, v in values.items()]

    common: dict[str, Any] = {
        "EvaluationPeriods": 1,
        "Threshold": 80.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    simple: dict[str, Any] = {**common, "Statistic": "Average", "Period": 60}
    cw.put_metric_alarm(
        AlarmName="svc-ok-cpu",
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Dimensions=dims(ClusterName="cl-good", ServiceName="svc-ok"),
        AlarmActions=[TOPIC],
        **simple,
    )
    # memory through metric math: the alarm names the metric in a query
    cw.put_metric_alarm(
        AlarmName="svc-ok-memory",
        Metrics=[
            {"Id": "e1", "Expression": "m1", "ReturnData": True},
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ECS",
                        "MetricName": "MemoryUtilization",
                        "Dimensions": dims(ClusterName="cl-good", ServiceName="svc-ok"),
                    },
                    "Period": 60,
                    "Stat": "Average",
                },
                "ReturnData": False,
            },
        ],
        AlarmActions=[TOPIC],
        **common,
    )
    # svc-bad: a CPU alarm that notifies nobody, and one on another cluster's namesake
    cw.put_metric_alarm(
        AlarmName="svc-bad-cpu-silent",
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Dimensions=dims(ClusterName="cl-good", ServiceName="svc-bad"),
        **simple,
    )
    cw.put_metric_alarm(
        AlarmName="elsewhere-svc-bad-memory",
        Namespace="AWS/ECS",
        MetricName="MemoryUtilization",
        Dimensions=dims(ClusterName="cl-other", ServiceName="svc-bad"),
        AlarmActions=[TOPIC],
        **simple,
    )
    cw.put_metric_alarm(
        AlarmName="fn-dlq-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=dims(FunctionName="fn-dlq"),
        AlarmActions=[TOPIC],
        **{**simple, "Statistic": "Sum"},
    )
    cw.put_metric_alarm(
        AlarmName="fn-dest-error-rate",
        Metrics=[
            {"Id": "rate", "Expression": "100 * errors", "ReturnData": True},
            {
                "Id": "errors",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Errors",
                        "Dimensions": dims(FunctionName="fn-dest", Resource="fn-dest:live"),
                    },
                    "Period": 300,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            },
        ],
        AlarmActions=[TOPIC],
        **common,
    )


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with EmulatorProcess.start("empty") as emulator:
        control = EmulatorControl(emulator.endpoint)
        build(control)
        yield World(control, emulator.endpoint)


# -- reading it -------------------------------------------------------------------------


def environment() -> Environment:
    return Environment(
        name="selftest", account_id=ACCOUNT, regions=[REGION], emulator=Emulator(seed="empty")
    )


def deny(access: AwsAccess, service: str, operations: tuple[str, ...]) -> None:
    """Make these operations answer AccessDenied, as a missing IAM permission would."""

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "AccessDeniedException", "Message": "not authorized (selftest)"}
        answer = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://denied.invalid", 403, {}, None), answer  # type: ignore[arg-type]

    client = access.client(service, REGION)
    for operation in operations:
        client.meta.events.register_first(f"before-call.*.{operation}", refuse)


def snapshot_of(
    world: World, denied: dict[str, tuple[str, ...]] | None = None
) -> tuple[Snapshot, AwsAccess]:
    env = environment()
    access = AwsAccess(env, endpoint_url=world.endpoint, read_only=True)
    for service, operations in (denied or {}).items():
        deny(access, service, operations)
    target = Target(
        environment=env.name,
        account=ACCOUNT,
        regions=(REGION,),
        endpoint=world.endpoint,
        emulated=True,
        seed="empty",
    )
    collectors = [by_kind()[k] for k in KINDS]
    result = take_snapshot(access, env, target, collectors)
    assert not result.problems
    return result.snapshot, access


@pytest.fixture(scope="module")
def audit(world: World) -> tuple[Snapshot, AwsAccess]:
    return snapshot_of(world)


@pytest.fixture(scope="module")
def snapshot(audit: tuple[Snapshot, AwsAccess]) -> Snapshot:
    return audit[0]


def find(snapshot: Snapshot, kind: str, rid: str) -> Resource:
    matches = [r for r in snapshot.resources(kind) if r.id == rid]
    assert len(matches) == 1, f"{kind} {rid}: {len(matches)} found"
    return matches[0]


def judge(check: Callable[..., None], resource: Resource, snapshot: Snapshot) -> tuple[str, str]:
    """Run a check function the way pytest would, and name its outcome."""
    offered = {"resource": resource, "inventory": snapshot, "thresholds": Thresholds()}
    wanted = {k: v for k, v in offered.items() if k in inspect.signature(check).parameters}
    try:
        check(**wanted)
    except AssertionError as exc:
        return "failed", str(exc)
    except NotEvaluated as exc:
        return "not-evaluated", str(exc)
    except pytest.skip.Exception as exc:
        message = str(exc.msg)
        return (
            "not-applicable" if message.startswith("not-applicable") else "not-evaluated"
        ), message
    return "passed", ""


# -- every criterion: compliant and violating ----------------------------------------------

SERVICES, CLUSTERS = "ecs.services", "ecs.clusters"
LBS, FUNCTIONS = "elbv2.load_balancers", "lambda.functions"

CASES = [
    # (check, kind, resource id, outcome, words the message must hold)
    ("ECS.test_ecs_service_circuit_breaker", SERVICES, "cl-good/svc-ok", "passed", ""),
    ("ECS.test_ecs_service_circuit_breaker", SERVICES, "cl-good/svc-bad", "failed", "is off"),
    (
        "ECS.test_ecs_service_circuit_breaker",
        SERVICES,
        "cl-good/svc-norollback",
        "failed",
        "roll back",
    ),
    (
        "ECS.test_ecs_service_circuit_breaker",
        SERVICES,
        "cl-good/svc-codedeploy",
        "not-applicable",
        "CODE_DEPLOY",
    ),
    ("ECS.test_ecs_service_min_tasks", SERVICES, "cl-good/svc-ok", "passed", ""),
    ("ECS.test_ecs_service_min_tasks", SERVICES, "cl-good/svc-bad", "failed", "desired count 1"),
    ("ECS.test_ecs_service_multi_az", SERVICES, "cl-good/svc-ok", "passed", ""),
    ("ECS.test_ecs_service_multi_az", SERVICES, "cl-good/svc-bad", "failed", "us-east-1a"),
    ("ECS.test_ecs_service_autoscaling", SERVICES, "cl-good/svc-ok", "passed", ""),
    (
        "ECS.test_ecs_service_autoscaling",
        SERVICES,
        "cl-good/svc-bad",
        "failed",
        "minimum capacity 1",
    ),
    (
        "ECS.test_ecs_service_autoscaling",
        SERVICES,
        "cl-good/svc-norollback",
        "failed",
        "no Application Auto Scaling target",
    ),
    ("ECS.test_ecs_cluster_container_insights", CLUSTERS, "cl-good", "passed", ""),
    ("ECS.test_ecs_cluster_container_insights", CLUSTERS, "cl-enhanced", "passed", ""),
    ("ECS.test_ecs_cluster_container_insights", CLUSTERS, "cl-off", "failed", "disabled"),
    (
        "ECS.test_ecs_cluster_container_insights",
        CLUSTERS,
        "cl-unset",
        "failed",
        "Container Insights",
    ),
    ("LB.test_elbv2_deletion_protection", LBS, "alb-ok", "passed", ""),
    ("LB.test_elbv2_deletion_protection", LBS, "alb-open", "failed", "deletion protection"),
    ("LB.test_elbv2_multi_az", LBS, "alb-ok", "passed", ""),
    ("LB.test_elbv2_multi_az", LBS, "nlb-single", "failed", "us-east-1a only"),
    ("LAMBDA.test_lambda_async_failure_destination", FUNCTIONS, "fn-dlq", "passed", ""),
    ("LAMBDA.test_lambda_async_failure_destination", FUNCTIONS, "fn-dest", "passed", ""),
    (
        "LAMBDA.test_lambda_async_failure_destination",
        FUNCTIONS,
        "fn-success-only",
        "failed",
        "on-failure",
    ),
    ("LAMBDA.test_lambda_async_failure_destination", FUNCTIONS, "fn-none", "failed", "dead-letter"),
    ("WAF.test_waf_rate_limit_public_alb", LBS, "alb-ok", "passed", ""),
    ("WAF.test_waf_rate_limit_public_alb", LBS, "alb-open", "failed", "no WAF web ACL"),
    ("WAF.test_waf_rate_limit_public_alb", LBS, "alb-count", "failed", "only count"),
    ("WAF.test_waf_rate_limit_public_alb", LBS, "alb-norate", "failed", "no rate-based rule"),
    ("ALARMS.test_ecs_service_cpu_alarm", SERVICES, "cl-good/svc-ok", "passed", ""),
    ("ALARMS.test_ecs_service_cpu_alarm", SERVICES, "cl-good/svc-bad", "failed", "notify nobody"),
    ("ALARMS.test_ecs_service_memory_alarm", SERVICES, "cl-good/svc-ok", "passed", ""),
    (
        "ALARMS.test_ecs_service_memory_alarm",
        SERVICES,
        "cl-good/svc-bad",
        "failed",
        "no memory alarm",
    ),
    ("ALARMS.test_lambda_errors_alarm", FUNCTIONS, "fn-dlq", "passed", ""),
    ("ALARMS.test_lambda_errors_alarm", FUNCTIONS, "fn-dest", "passed", ""),
    ("ALARMS.test_lambda_errors_alarm", FUNCTIONS, "fn-none", "failed", "no Errors alarm"),
]


@pytest.mark.parametrize(
    ("check", "kind", "rid", "expected", "words"),
    CASES,
    ids=[f"{c[0].split('.test_')[1]}-{c[2]}" for c in CASES],
)
def test_criterion(
    snapshot: Snapshot,
    checks: dict[str, ModuleType],
    check: str,
    kind: str,
    rid: str,
    expected: str,
    words: str,
) -> None:
    resource = find(snapshot, kind, rid)
    outcome, message = judge(check_of(checks, check), resource, snapshot)
    assert outcome == expected, message
    if expected != "passed":
        assert resource.label in message
        assert words in message


def test_only_public_albs_are_judged_for_waf(
    snapshot: Snapshot, checks: dict[str, ModuleType]
) -> None:
    env = environment()
    judged = {r.id for r in snapshot.resources(LBS) if checks["WAF"].public_alb(r, env)}
    assert judged == {"alb-ok", "alb-open", "alb-count", "alb-norate"}


# -- unreadable data: not-evaluated, never passed --------------------------------------------


@pytest.fixture(scope="module")
def denied_details(world: World) -> Snapshot:
    snapshot, _ = snapshot_of(
        world,
        {
            "wafv2": ("GetWebACLForResource",),
            "lambda": ("GetFunctionEventInvokeConfig", "GetFunctionConfiguration"),
            "ec2": ("DescribeSubnets",),
            "elbv2": ("DescribeLoadBalancerAttributes",),
        },
    )
    return snapshot


@pytest.fixture(scope="module")
def denied_lists(world: World) -> Snapshot:
    snapshot, _ = snapshot_of(
        world,
        {
            "application-autoscaling": ("DescribeScalableTargets",),
            "cloudwatch": ("DescribeAlarms",),
            "wafv2": ("ListWebACLs",),
            "lambda": ("ListFunctions",),
        },
    )
    return snapshot


DENIED_DETAILS = [
    ("ECS.test_ecs_service_multi_az", SERVICES, "cl-good/svc-ok", "not-evaluated"),
    ("LB.test_elbv2_deletion_protection", LBS, "alb-ok", "not-evaluated"),
    ("WAF.test_waf_rate_limit_public_alb", LBS, "alb-ok", "not-evaluated"),
    ("LAMBDA.test_lambda_async_failure_destination", FUNCTIONS, "fn-dest", "not-evaluated"),
    # a DLQ is in the function listing itself: the denied read is not needed to pass
    ("LAMBDA.test_lambda_async_failure_destination", FUNCTIONS, "fn-dlq", "passed"),
]


@pytest.mark.parametrize(
    ("check", "kind", "rid", "expected"),
    DENIED_DETAILS,
    ids=[f"{c[0].split('.test_')[1]}-{c[2]}" for c in DENIED_DETAILS],
)
def test_a_denied_detail_read_is_not_evaluated(
    denied_details: Snapshot,
    checks: dict[str, ModuleType],
    check: str,
    kind: str,
    rid: str,
    expected: str,
) -> None:
    resource = find(denied_details, kind, rid)
    outcome, message = judge(check_of(checks, check), resource, denied_details)
    assert outcome == expected, message
    if expected == "not-evaluated":
        assert "access denied" in message


def test_denied_function_state_is_recorded_as_unreadable(denied_details: Snapshot) -> None:
    function = find(denied_details, FUNCTIONS, "fn-dlq")
    with pytest.raises(NotEvaluated, match="State could not be read"):
        function.need("State")


DENIED_LISTS = [
    ("ECS.test_ecs_service_autoscaling", SERVICES, "cl-good/svc-ok"),
    ("ALARMS.test_ecs_service_cpu_alarm", SERVICES, "cl-good/svc-ok"),
    ("ALARMS.test_ecs_service_memory_alarm", SERVICES, "cl-good/svc-ok"),
    ("WAF.test_waf_rate_limit_public_alb", LBS, "alb-ok"),
]


@pytest.mark.parametrize(
    ("check", "kind", "rid"),
    DENIED_LISTS,
    ids=[f"{c[0].split('.test_')[1]}-{c[2]}" for c in DENIED_LISTS],
)
def test_a_denied_listing_leaves_the_checks_that_need_it_not_evaluated(
    denied_lists: Snapshot, checks: dict[str, ModuleType], check: str, kind: str, rid: str
) -> None:
    resource = find(denied_lists, kind, rid)
    outcome, message = judge(check_of(checks, check), resource, denied_lists)
    assert outcome == "not-evaluated", message
    assert "access denied" in message


def test_a_denied_listing_is_a_gap_not_an_empty_kind(denied_lists: Snapshot) -> None:
    for kind in ("lambda.functions", "cloudwatch.metric_alarms", "wafv2.web_acls"):
        gaps = denied_lists.gaps(kind)
        assert [g.region for g in gaps] == [REGION]
        assert "access denied" in gaps[0].reason
        assert denied_lists.resources(kind) == []


# -- what the collectors keep, and what they ask ---------------------------------------------


def test_each_request_is_made_once_and_only_reads(audit: tuple[Snapshot, AwsAccess]) -> None:
    summary = audit[1].ledger.summary()
    assert summary["total_calls"] == summary["distinct_requests"]
    assert summary["mutating_calls"] == []
    ops = summary["by_operation"]
    # cl-good has 4 services, cl-many 11: DescribeServices in batches of 10
    assert ops["ecs:DescribeServices"] == 1 + math.ceil(MANY / 10)
    assert ops["elbv2:DescribeTags"] == 1  # 7 load balancers, 20 to a call
    assert ops["ec2:DescribeSubnets"] == 1  # shared by every service of the region


def test_service_records_carry_zones_and_cluster(snapshot: Snapshot) -> None:
    service = find(snapshot, SERVICES, "cl-good/svc-ok")
    assert sorted(service.need("SubnetZones").values()) == ["us-east-1a", "us-east-1b"]
    assert service.get("ClusterName") == "cl-good"
    assert service.get("runningCount") == service.get("desiredCount") == 2
    assert len(snapshot.resources(SERVICES)) == 4 + MANY


def test_lambda_records_keep_state_but_no_secret(snapshot: Snapshot) -> None:
    function = find(snapshot, FUNCTIONS, "fn-none")
    assert function.get("Environment") == {"VariableNames": ["API_TOKEN"]}
    assert (function.need("State"), function.need("LastUpdateStatus")) == ("Active", "Successful")
    assert function.need("EventInvokeConfig") is None
    assert SECRET not in json.dumps(snapshot.to_json())


def test_alarm_records_are_describe_alarms_entries_with_their_kind(snapshot: Snapshot) -> None:
    alarm = find(snapshot, "cloudwatch.metric_alarms", "svc-ok-cpu")
    assert alarm.get("AlarmKind") == "metric"
    assert alarm.get("MetricName") == "CPUUtilization"
    assert alarm.arn == alarm.get("AlarmArn")


def test_load_balancer_records_carry_attributes_and_web_acl(snapshot: Snapshot) -> None:
    alb = find(snapshot, LBS, "alb-ok")
    assert alb.need("Attributes")["deletion_protection.enabled"] == "true"
    assert alb.need("WebACL")["Name"] == "acl-block"
    assert "WebACL" not in find(snapshot, LBS, "alb-internal").data
