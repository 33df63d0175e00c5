"""Compute: ECS cluster and services, autoscaling, the public load balancer and its WAF,
Lambda functions, and the CloudWatch alarms on the services and functions (us-east-1).

demo: cluster `prod-cluster` (Container Insights on); services `api` and `worker` (Fargate,
desired 2, awsvpc in both private subnets, circuit breaker with rollback, tasks running)
with scalable targets min 2 max 10; ALB `prod-alb` (internet-facing, both subnets,
deletion protection, HTTPS listener with an HTTP redirect) behind WAFv2 web ACL
`prod-edge-acl` whose rate-based rule blocks; functions `prod-image-resizer` (DLQ) and
`prod-report-builder` (on-failure destination), both to `prod-jobs-dlq`; alarms
`prod-{api,worker}-{cpu,memory}-high` and `prod-{function}-errors` notifying prod-alerts.

demo-risky (warnings only):
- `prod-cluster`: Container Insights disabled.
- `worker`: desired count 1, scalable target min capacity 1.
- `prod-report-builder`: no on-failure destination and no DLQ.
- `prod-worker-memory-high` alarm missing.

demo-broken (criticals, and two warnings):
- `api`: deployment circuit breaker disabled (critical).
- `prod-alb`: deletion protection off (critical).
- `prod-edge-acl`: the rate-based rule only counts (Count action), so it blocks nothing.
- `prod-image-resizer-errors` alarm missing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from readiness.emulator.seeds import (
    ACCOUNT,
    ALERTS_TOPIC_ARN,
    HOME,
    PRIVATE_SUBNETS,
    TAGS,
    VPC_NAME,
    Stack,
    tag_list,
)

ORDER = 30
CLUSTER = "prod-cluster"
SERVICES = ("api", "worker")
ALB = "prod-alb"
WEB_ACL = "prod-edge-acl"
FUNCTIONS = ("prod-image-resizer", "prod-report-builder")
FAILURE_QUEUE_ARN = f"arn:aws:sqs:{HOME}:{ACCOUNT}:prod-jobs-dlq"  # the data area's queue
LOG_BUCKET = f"prod-logs-{ACCOUNT}"
LAMBDA_ROLE = "lambda-exec"
TASK_ROLE = "ecs-task-execution"
DOMAIN = "app.prod.example.com"


def ecs_tags() -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in TAGS.items()]


def seed(stack: Stack) -> None:
    subnets = private_subnets(stack)
    seed_cluster(stack)
    target_group = seed_load_balancer(stack, subnets)
    seed_services(stack, subnets, target_group)
    seed_lambda(stack)
    seed_alarms(stack)


# -- network: normally the network area's; created here only when it is absent -------


def private_subnets(stack: Stack) -> list[str]:
    """The ids of `prod-private-a` and `prod-private-b`, made if the network seed did not."""
    ec2 = stack.client("ec2")
    found = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": list(PRIVATE_SUBNETS)}])
    by_name = {tag_value(s.get("Tags"), "Name"): s["SubnetId"] for s in found["Subnets"]}
    missing = [n for n in PRIVATE_SUBNETS if n not in by_name]
    if missing:
        by_name.update(_make_private_subnets(stack, missing))
    return [by_name[n] for n in PRIVATE_SUBNETS]


def _make_private_subnets(stack: Stack, names: list[str]) -> dict[str, str]:
    ec2 = stack.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [VPC_NAME]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(
            CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": tag_list({"Name": VPC_NAME})}],
        )["Vpc"]["VpcId"]
    made = {}
    for name in names:
        index = PRIVATE_SUBNETS.index(name)
        made[name] = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=f"10.0.{101 + index}.0/24",
            AvailabilityZone=f"{HOME}{'ab'[index]}",
            TagSpecifications=[{"ResourceType": "subnet", "Tags": tag_list({"Name": name})}],
        )["Subnet"]["SubnetId"]
    return made


def tag_value(tags: Any, key: str) -> str | None:
    for tag in tags or []:
        if tag.get("Key") == key:
            return str(tag.get("Value"))
    return None


def ensure_role(stack: Stack, name: str, principal: str, policy_arn: str) -> str:
    iam = stack.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tag_list()
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return str(arn)


# -- ECS ----------------------------------------------------------------------------------


def seed_cluster(stack: Stack) -> None:
    """The cluster and the services' task definitions."""
    ecs = stack.client("ecs")
    insights = "disabled" if stack.risky else "enabled"
    ecs.create_cluster(
        clusterName=CLUSTER,
        settings=[{"name": "containerInsights", "value": insights}],
        tags=ecs_tags(),
    )
    stack.count("ecs.clusters")
    execution_role = ensure_role(
        stack,
        TASK_ROLE,
        "ecs-tasks.amazonaws.com",
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    )
    for name in SERVICES:
        ecs.register_task_definition(
            family=f"prod-{name}",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="512",
            memory="1024",
            executionRoleArn=execution_role,
            containerDefinitions=[
                {
                    "name": name,
                    "image": f"{ACCOUNT}.dkr.ecr.{HOME}.amazonaws.com/prod-{name}:1.4.2",
                    "essential": True,
                    "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": f"/ecs/prod-{name}",
                            "awslogs-region": HOME,
                            "awslogs-stream-prefix": name,
                        },
                    },
                }
            ],
            tags=ecs_tags(),
        )


def seed_services(stack: Stack, subnets: list[str], target_group_arn: str) -> None:
    ecs = stack.client("ecs")
    scaling = stack.client("application-autoscaling")
    for name in SERVICES:
        weak = stack.risky and name == "worker"
        unguarded = stack.broken and name == "api"
        extra: dict[str, Any] = {}
        if name == "api":
            extra["loadBalancers"] = [
                {"targetGroupArn": target_group_arn, "containerName": name, "containerPort": 8080}
            ]
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=name,
            taskDefinition=f"prod-{name}",
            desiredCount=1 if weak else 2,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": subnets, "assignPublicIp": "DISABLED"}
            },
            deploymentConfiguration={
                "deploymentCircuitBreaker": {"enable": not unguarded, "rollback": not unguarded},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            },
            propagateTags="SERVICE",
            enableECSManagedTags=True,
            tags=ecs_tags(),
            **extra,
        )
        stack.count("ecs.services")
        scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/{CLUSTER}/{name}",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1 if weak else 2,
            MaxCapacity=10,
        )
        stack.count("autoscaling.ecs_targets")


# -- load balancer and WAF ------------------------------------------------------------------


def self_signed_certificate(domain: str) -> tuple[bytes, bytes]:
    """A PEM certificate and key for the demo HTTPS listener (ACM imports it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def seed_load_balancer(stack: Stack, subnets: list[str]) -> str:
    """The ALB, its listeners and web ACL; returns the api target group's ARN."""
    elb = stack.client("elbv2")
    vpc_id = stack.client("ec2").describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    lb = elb.create_load_balancer(
        Name=ALB,
        Subnets=subnets,
        Scheme="internet-facing",
        Type="application",
        IpAddressType="ipv4",
        Tags=tag_list(),
    )["LoadBalancers"][0]
    lb_arn = lb["LoadBalancerArn"]
    stack.count("elbv2.load_balancers")
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=lb_arn,
        Attributes=[
            {"Key": "deletion_protection.enabled", "Value": "false" if stack.broken else "true"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": LOG_BUCKET},
            {"Key": "access_logs.s3.prefix", "Value": ALB},
        ],
    )
    target_group = elb.create_target_group(
        Name="prod-api",
        Protocol="HTTP",
        Port=8080,
        VpcId=vpc_id,
        TargetType="ip",
        HealthCheckPath="/health",
        Tags=tag_list(),
    )["TargetGroups"][0]["TargetGroupArn"]
    cert_pem, key_pem = self_signed_certificate(DOMAIN)
    certificate = stack.client("acm").import_certificate(
        Certificate=cert_pem, PrivateKey=key_pem, Tags=tag_list()
    )["CertificateArn"]
    elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    seed_web_acl(stack, lb_arn)
    return str(target_group)


def _visibility(metric: str) -> dict[str, Any]:
    return {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": metric,
    }


def seed_web_acl(stack: Stack, lb_arn: str) -> None:
    waf = stack.client("wafv2")
    rate_action: dict[str, Any] = {"Count": {}} if stack.broken else {"Block": {}}
    acl = waf.create_web_acl(
        Name=WEB_ACL,
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Description="Public entry point: per-IP rate limit and AWS common rules",
        Rules=[
            {
                "Name": "per-ip-rate-limit",
                "Priority": 0,
                "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
                "Action": rate_action,
                "VisibilityConfig": _visibility("per-ip-rate-limit"),
            },
            {
                "Name": "aws-common",
                "Priority": 1,
                "Statement": {
                    "ManagedRuleGroupStatement": {
                        "VendorName": "AWS",
                        "Name": "AWSManagedRulesCommonRuleSet",
                    }
                },
                "OverrideAction": {"None": {}},
                "VisibilityConfig": _visibility("aws-common"),
            },
        ],
        VisibilityConfig=_visibility(WEB_ACL),
        Tags=tag_list(),
    )["Summary"]
    waf.associate_web_acl(WebACLArn=acl["ARN"], ResourceArn=lb_arn)
    stack.count("wafv2.web_acls")


# -- Lambda -----------------------------------------------------------------------------------


def function_zip(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "handler.py",
            f"def handler(event, context):\n    return {{'function': {name!r}, 'ok': True}}\n",
        )
    return buffer.getvalue()


def seed_lambda(stack: Stack) -> None:
    lam = stack.client("lambda")
    role = ensure_role(
        stack,
        LAMBDA_ROLE,
        "lambda.amazonaws.com",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    )
    for name in FUNCTIONS:
        extra: dict[str, Any] = {}
        if name == "prod-image-resizer":
            extra["DeadLetterConfig"] = {"TargetArn": FAILURE_QUEUE_ARN}
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": function_zip(name)},
            Timeout=30,
            MemorySize=512,
            Environment={"Variables": {"ASSETS_BUCKET": f"prod-assets-{ACCOUNT}"}},
            Tags=dict(TAGS),
            **extra,
        )
        stack.count("lambda.functions")
        if name == "prod-report-builder" and not stack.risky:
            lam.put_function_event_invoke_config(
                FunctionName=name,
                MaximumRetryAttempts=2,
                MaximumEventAgeInSeconds=3600,
                DestinationConfig={"OnFailure": {"Destination": FAILURE_QUEUE_ARN}},
            )


# -- alarms -----------------------------------------------------------------------------------


def _alarm(stack: Stack, name: str, **spec: Any) -> None:
    stack.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        AlarmActions=[ALERTS_TOPIC_ARN],
        OKActions=[ALERTS_TOPIC_ARN],
        ActionsEnabled=True,
        Tags=tag_list(),
        **spec,
    )
    stack.count("cloudwatch.metric_alarms")


def seed_alarms(stack: Stack) -> None:
    for service in SERVICES:
        dimensions = [
            {"Name": "ClusterName", "Value": CLUSTER},
            {"Name": "ServiceName", "Value": service},
        ]
        for metric, short, threshold in (
            ("CPUUtilization", "cpu", 80.0),
            ("MemoryUtilization", "memory", 85.0),
        ):
            if stack.risky and service == "worker" and short == "memory":
                continue
            _alarm(
                stack,
                f"prod-{service}-{short}-high",
                AlarmDescription=f"ECS service {service}: {metric} above {threshold:.0f} %",
                Namespace="AWS/ECS",
                MetricName=metric,
                Dimensions=dimensions,
                Statistic="Average",
                Period=60,
                EvaluationPeriods=5,
                DatapointsToAlarm=3,
                Threshold=threshold,
                ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="missing",
            )
    for function in FUNCTIONS:
        if stack.broken and function == "prod-image-resizer":
            continue
        _alarm(
            stack,
            f"{function}-errors",
            AlarmDescription=f"Lambda {function}: invocation errors",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
        )
