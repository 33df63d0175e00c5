"""A generated stack of N realistic, mixed resources, bulk-created with boto3 in threads,
and one audit run attached to it.

Every block of ten resources holds: 2 SQS queues (one the other's dead-letter queue),
2 DynamoDB tables, 2 CloudWatch alarms, 1 Lambda function, 1 ECS service, 1 log group,
and an S3 bucket or a security group (alternately). Names and tags follow the demo's.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from readiness.emulator import AttachedEmulator, EmulatorProcess
from readiness.emulator.control import EmulatorControl
from readiness.emulator.seeds import ACCOUNT, TAGS, tag_list

REPO = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
CLUSTER = "bench-cluster"
BLOCK = 10
SEED_THREADS = 8

CONFIG = """\
default_environment = "bench"

[environments.bench]
description = "Generated benchmark stack on the embedded emulator"
account_id = "123456789012"
regions = ["us-east-1"]
emulator = {{ seed = "empty" }}
parallelism = {parallelism}
"""


def machine() -> str:
    """The machine, in one line: cores, memory, Python."""
    cores = os.cpu_count() or 0
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    version = ".".join(map(str, sys.version_info[:3]))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return (
        f"{cores} cores, {memory_kib / 1024 / 1024:.0f} GiB, Python {version}, "
        f"load average {load:.1f} at start"
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()


@dataclass
class Seeder:
    """Makes resources on a running emulator; thread-safe (one client set per thread)."""

    endpoint: str
    made: Counter[str] = field(default_factory=Counter)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _zip: bytes = field(default_factory=_zip)
    role_arn: str = ""

    def client(self, service: str) -> Any:
        cache = getattr(self._local, "clients", None)
        if cache is None:
            cache = self._local.clients = {}
            self._local.control = EmulatorControl(self.endpoint)
        if service not in cache:
            cache[service] = self._local.control.client(service, REGION)
        return cache[service]

    def count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.made[kind] += n

    def shared(self) -> None:
        """What every block leans on: a role, an ECS cluster and task definition, a VPC."""
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        self.role_arn = iam.create_role(
            RoleName="bench-runtime", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        ecs = self.client("ecs")
        ecs.create_cluster(clusterName=CLUSTER, tags=[{"key": "Environment", "value": "bench"}])
        ecs.register_task_definition(
            family="bench-app",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            executionRoleArn=self.role_arn,
            containerDefinitions=[
                {"name": "app", "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:1"}
            ],
        )
        ec2 = self.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        self.vpc_id = vpc
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.40.1.0/24", AvailabilityZone="us-east-1a"
        )
        self.subnet_id = subnet["Subnet"]["SubnetId"]

    def block(self, index: int, size: int) -> None:
        """Up to `size` (≤ 10) resources of block `index`."""
        makers: list[Callable[[str], None]] = [
            self.queue_pair,  # 2
            self.table,
            self.table,
            self.alarm,
            self.alarm,
            self.function,
            self.service,
            self.log_group,
            self.bucket if index % 2 == 0 else self.security_group,
        ]
        budget = size
        for position, make in enumerate(makers):
            if budget <= 0:
                break
            name = f"bench-{index:05d}-{position}"
            if make == self.queue_pair and budget < 2:
                self.queue(name)
                budget -= 1
                continue
            make(name)
            budget -= 2 if make == self.queue_pair else 1

    def queue(self, name: str) -> str:
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, tags=dict(TAGS))["QueueUrl"]
        self.count("sqs.queues")
        return str(url)

    def queue_pair(self, name: str) -> None:
        sqs = self.client("sqs")
        dlq = sqs.create_queue(QueueName=f"{name}-dlq", tags=dict(TAGS))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
        sqs.create_queue(
            QueueName=name,
            Attributes={"RedrivePolicy": policy, "SqsManagedSseEnabled": "true"},
            tags=dict(TAGS),
        )
        self.count("sqs.queues", 2)

    def table(self, name: str) -> None:
        self.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=tag_list(),
        )
        self.count("dynamodb.tables")

    def alarm(self, name: str) -> None:
        self.client("cloudwatch").put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/SQS",
            MetricName="ApproximateAgeOfOldestMessage",
            Dimensions=[{"Name": "QueueName", "Value": name}],
            Statistic="Maximum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=600,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[f"arn:aws:sns:{REGION}:{ACCOUNT}:bench-alerts"],
        )
        self.count("cloudwatch.alarms")

    def function(self, name: str) -> None:
        self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=self.role_arn,
            Handler="handler.handler",
            Code={"ZipFile": self._zip},
            Timeout=30,
            MemorySize=256,
            Tags=dict(TAGS),
        )
        self.count("lambda.functions")

    def service(self, name: str) -> None:
        self.client("ecs").create_service(
            cluster=CLUSTER,
            serviceName=name,
            taskDefinition="bench-app",
            desiredCount=2,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [self.subnet_id], "assignPublicIp": "DISABLED"}
            },
            deploymentConfiguration={
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
            },
        )
        self.count("ecs.services")

    def log_group(self, name: str) -> None:
        logs = self.client("logs")
        logs.create_log_group(logGroupName=f"/bench/{name}", tags=dict(TAGS))
        logs.put_retention_policy(logGroupName=f"/bench/{name}", retentionInDays=30)
        self.count("logs.log_groups")

    def bucket(self, name: str) -> None:
        self.client("s3").create_bucket(Bucket=name)
        self.count("s3.buckets")

    def security_group(self, name: str) -> None:
        self.client("ec2").create_security_group(
            GroupName=name, Description="bench", VpcId=self.vpc_id
        )
        self.count("ec2.security_groups")


def populate(
    endpoint: str, resources: int, threads: int = SEED_THREADS
) -> tuple[Counter[str], float]:
    """Create `resources` resources; return what was made and the seconds it took."""
    started = time.perf_counter()
    seeder = Seeder(endpoint)
    seeder.shared()
    blocks = [
        (i, min(BLOCK, resources - i * BLOCK)) for i in range((resources + BLOCK - 1) // BLOCK)
    ]
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(seeder.block, i, n) for i, n in blocks]:
            future.result()
    return seeder.made, time.perf_counter() - started


@dataclass
class AuditRun:
    returncode: int
    wall_s: float
    cpu_s: float
    max_rss_mib: float
    calls: int
    distinct: int
    repeated: list[str]
    mutating: list[str]
    by_operation: dict[str, int]
    results: int
    verdict: str
    out: Path

    @property
    def ratio(self) -> float:
        return self.calls / self.distinct if self.distinct else 0.0


def run_audit(
    endpoint: str,
    out: Path,
    *,
    parallelism: int = 16,
    extra: list[str] | None = None,
    phase: str = "audit",
    timeout_s: float = 900,
) -> AuditRun:
    """One `pytest -m audit` of the `bench` environment, attached to `endpoint`."""
    out.mkdir(parents=True, exist_ok=True)
    config = out / "readiness.toml"
    config.write_text(CONFIG.format(parallelism=parallelism))
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")
    }
    env.update(AttachedEmulator(endpoint, app_url="", seed="bench").attach_environment())
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-m",
        phase,
        "--env",
        "bench",
        f"--config={config}",
        f"--report-dir={out}",
        *(extra or []),
    ]
    started = time.perf_counter()
    with (out / "terminal.txt").open("w") as terminal:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=terminal, stderr=subprocess.STDOUT
        )
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    ledger: dict[str, Any] = {}
    verdict: dict[str, Any] = {}
    try:
        ledger = json.loads((out / "api-calls.json").read_text())
        verdict = json.loads((out / "verdict.json").read_text())
    except (OSError, ValueError):
        pass
    return AuditRun(
        returncode=process.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mib=usage.ru_maxrss / 1024,
        calls=int(ledger.get("total_calls", 0)),
        distinct=int(ledger.get("distinct_requests", 0)),
        repeated=list(ledger.get("repeated_requests", [])),
        mutating=list(ledger.get("mutating_calls", [])),
        by_operation=dict(ledger.get("by_operation", {})),
        results=int(verdict.get("counts", {}).get("total", 0))
        if isinstance(verdict.get("counts"), dict)
        else 0,
        verdict=str(verdict.get("verdict", "?")),
        out=out,
    )


@contextmanager
def emulator() -> Iterator[EmulatorProcess]:
    """The emulator with the `empty` seed, for the generated stacks."""
    with EmulatorProcess.start("empty", regions=(REGION,)) as process:
        yield process


def scratch(prefix: str) -> Path:
    base = REPO / "bench" / "out"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
