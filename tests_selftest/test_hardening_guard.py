"""The guard covers every AWS request of the process, by an explicit allow-list per phase.

Any client (boto3's default session, a new session, the run's own session, a writer,
paginators and waiters) is judged before it sends; a refused call is recorded and makes
the run NO-GO even when the check swallowed the exception; operations that return
secrets are never allowed, and declaring one is an error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from readiness.aws import AwsAccess, DeclarationError, Guard, Policy, ReadOnlyViolation, intercept
from readiness.aws.guard import returns_secrets
from readiness.config import Environment, load_config
from readiness.emulator import EmulatorControl, EmulatorProcess
from readiness.inventory.allowlist import PHASES, allow_list, phase_policy
from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.collectors import ALL
from readiness.inventory.model import Target
from readiness.inventory.runner import IDENTITY_READS, take_snapshot
from readiness.postdeploy.triage import recent_errors

from .conftest import REPO, SuiteRun

REGION = "us-east-1"
KEYS = {
    "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


def local_env() -> Environment:
    config, _ = load_config(REPO / "readiness.toml")
    return config.environment("local")


@pytest.fixture
def installed() -> Iterator[Any]:
    """Install a guard for the whole process for one test; always removed again."""
    installations: list[intercept.Installation] = []

    def install(policy: Policy) -> Guard:
        guard = Guard(policy)
        installations.append(intercept.install(guard))
        return guard

    yield install
    for installation in reversed(installations):
        intercept.uninstall(installation)


def plain(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **KEYS)  # type: ignore[call-overload]


# -- declarations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "ssm:GetParameterHistory",
        "ssm:GetParameter",
        "ssm:GetParametersByPath",
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "kms:Decrypt",
        "kms:GenerateDataKeyWithoutPlaintext",
        "s3:GetObject",
    ],
)
def test_a_collector_declaring_a_secret_read_is_refused_at_declaration(name: str) -> None:
    with pytest.raises(DeclarationError, match=f"collector x.y: {name} returns secret values"):

        @collector("x.y", phases=("audit",), reads=("ec2:DescribeVpcs", name))
        def reader(ctx: CollectContext, region: str) -> Iterator[Found]:
            yield from ()


@pytest.mark.parametrize(
    ("reads", "message"),
    [
        (("logs:FilterLogEvents",), "only the post-deploy triage may do that"),
        (("logs:GetLogEvents",), "only the post-deploy triage may do that"),
        (("DescribeVpcs",), "is not service:Operation"),
        (("ec2:describe_vpcs",), "is not service:Operation"),
        ("ec2:DescribeVpcs", "not one string"),
    ],
)
def test_malformed_or_log_reading_declarations_are_refused(reads: Any, message: str) -> None:
    with pytest.raises(DeclarationError, match=message):
        collector("x.y", phases=("audit",), reads=reads)


def test_every_collector_declares_operations_botocore_knows() -> None:
    import botocore.session

    session = botocore.session.get_session()
    for c in ALL:
        assert c.reads, f"{c.kind} declares no read"
        for name in c.reads:
            service, operation = name.split(":")
            model = session.get_service_model(service)
            assert operation in model.operation_names, f"{c.kind}: {name} is not an operation"


def test_no_allow_list_holds_a_secret_and_log_events_only_in_postdeploy() -> None:
    for phase in PHASES:
        names = allow_list([phase])
        assert "sts:GetCallerIdentity" in names
        assert not [n for n in names if returns_secrets(n)], phase
        assert ("logs:FilterLogEvents" in names) is (phase == "postdeploy"), phase
    assert allow_list(["audit"]) >= {"rds:DescribeDBInstances", "s3:GetBucketEncryption"}
    assert allow_list(PHASES) == allow_list(["preflight", "audit", "deploy", "postdeploy"])
    with pytest.raises(ValueError, match="unknown phase"):
        allow_list(["audti"])
    assert phase_policy(["audit"], replay=True).reads == frozenset()


# -- the guard at the botocore layer -----------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_emulator: EmulatorProcess) -> EmulatorProcess:
    return demo_emulator


def test_every_client_of_the_process_goes_through_the_guard(demo: EmulatorProcess) -> None:
    early = plain("sqs", demo.endpoint)  # made before the guard: caught all the same
    env = local_env()
    guard = Guard(phase_policy(["audit"]))
    installation = intercept.install(guard)
    try:
        attempt_everything(demo, env, guard, early)
    finally:
        intercept.uninstall(installation)
    # Nothing reached the emulator.
    control = EmulatorControl(demo.endpoint)
    assert "guard-plain" not in [b["Name"] for b in control.client("s3").list_buckets()["Buckets"]]
    with pytest.raises(ClientError):
        control.client("iam").get_user(UserName="guard-session")
    assert control.client("dynamodb").describe_table(TableName="prod-sessions")["Table"]
    queues = control.client("sqs").list_queues().get("QueueUrls", [])
    assert not any(u.endswith("/guard-early") for u in queues)


def attempt_everything(demo: EmulatorProcess, env: Environment, guard: Guard, early: Any) -> None:
    run_access = AwsAccess(env, endpoint_url=demo.endpoint, read_only=True, guard=guard)
    attempts = {
        "sqs:CreateQueue": lambda: early.create_queue(QueueName="guard-early"),
        "s3:CreateBucket": lambda: plain("s3", demo.endpoint).create_bucket(Bucket="guard-plain"),
        "iam:CreateUser": lambda: (
            boto3.Session(region_name=REGION, **KEYS)
            .client("iam", endpoint_url=demo.endpoint)
            .create_user(UserName="guard-session")
        ),
        "sns:CreateTopic": lambda: run_access.session.client(
            "sns", endpoint_url=demo.endpoint
        ).create_topic(Name="g"),
        "dynamodb:DeleteTable": lambda: (
            run_access.writer().client("dynamodb").delete_table(TableName="prod-sessions")
        ),
        "sqs:DeleteQueue": lambda: (
            AwsAccess(env, endpoint_url=demo.endpoint, read_only=False)
            .client("sqs")
            .delete_queue(QueueUrl="prod-jobs")
        ),
        # a paginator and a waiter of operations no audit collector declares
        "ssm:DescribeParameters": lambda: list(
            plain("ssm", demo.endpoint).get_paginator("describe_parameters").paginate()
        ),
        "ec2:DescribeInstances": lambda: (
            plain("ec2", demo.endpoint)
            .get_waiter("instance_running")
            .wait(InstanceIds=["i-0000000000000000"], WaiterConfig={"MaxAttempts": 1})
        ),
    }
    for name, attempt in attempts.items():
        with pytest.raises(ReadOnlyViolation, match=f"read-only run: refused {name} before"):
            attempt()
    # Declared reads pass, whichever client makes them.
    assert "QueueUrls" in plain("sqs", demo.endpoint).list_queues()
    summary = guard.ledger.summary()
    assert summary["refused_calls"] == sorted(attempts)
    assert summary["mutating_calls"] == []
    assert guard.ledger.iam_policy()["Statement"][0]["Action"] == ["sqs:ListQueues"]


def test_uninstalling_puts_botocore_back(demo: EmulatorProcess) -> None:
    original = BaseClient.__dict__["_make_api_call"]
    guard = Guard(phase_policy(["audit"]))
    installation = intercept.install(guard)
    try:
        assert intercept.covers(guard)
        with pytest.raises(ReadOnlyViolation):
            plain("sqs", demo.endpoint).create_queue(QueueName="guard-uninstalled")
    finally:
        intercept.uninstall(installation)
    assert BaseClient.__dict__["_make_api_call"] is original
    assert not intercept.covers(guard)
    queue = plain("sqs", demo.endpoint).create_queue(QueueName="guard-uninstalled")
    assert queue["QueueUrl"].endswith("/guard-uninstalled")


def test_a_secret_returning_read_is_refused_and_never_in_the_policy(
    demo: EmulatorProcess, installed: Any
) -> None:
    control = EmulatorControl(demo.endpoint)
    control.client("ssm").put_parameter(
        Name="/guard/db-password", Value="hunter2-guarded", Type="SecureString"
    )
    env = local_env()
    # A stand-alone read-only access (outside a pytest phase) ...
    alone = AwsAccess(env, endpoint_url=demo.endpoint, read_only=True)
    with pytest.raises(ReadOnlyViolation, match="refused ssm:GetParameterHistory"):
        alone.client("ssm").get_parameter_history(Name="/guard/db-password", WithDecryption=True)
    # ... and the run's guard in every phase, the deploy included.
    for deploy in (False, True):
        guard = installed(phase_policy(list(PHASES), deploy=deploy))
        access = AwsAccess(env, endpoint_url=demo.endpoint, read_only=not deploy, guard=guard)
        refuse_every_secret_read(access)
        assert guard.ledger.iam_policy()["Statement"][0]["Action"] == []
        text = json.dumps(guard.ledger.summary())
        assert "hunter2" not in text


def refuse_every_secret_read(access: AwsAccess) -> None:
    ssm = access.client("ssm")
    for call in (
        lambda: ssm.get_parameter_history(Name="/guard/db-password", WithDecryption=True),
        lambda: ssm.get_parameter(Name="/guard/db-password"),
        lambda: access.client("secretsmanager").get_secret_value(SecretId="x"),
        lambda: access.client("kms").decrypt(CiphertextBlob=b"x"),
    ):
        with pytest.raises(ReadOnlyViolation, match="it returns secret values"):
            call()


def test_the_deploy_writes_and_records_its_writes(demo: EmulatorProcess, installed: Any) -> None:
    guard = installed(phase_policy(["deploy"], deploy=True))
    access = AwsAccess(local_env(), endpoint_url=demo.endpoint, read_only=True, guard=guard)
    writer = access.writer()
    url = writer.client("sqs").create_queue(QueueName="guard-deploy")["QueueUrl"]
    assert url.endswith("/guard-deploy")
    writer.client("rds").describe_db_instances()
    summary = guard.ledger.summary()
    assert summary["mutating_calls"] == ["sqs:CreateQueue"]
    assert summary["refused_calls"] == []
    assert [c["grant"] for c in summary["calls"]] == ["write", "read"]
    assert all(c["read_only_run"] is False for c in summary["calls"])


def test_log_events_are_read_by_the_triage_alone_and_only_in_postdeploy(
    demo: EmulatorProcess, installed: Any
) -> None:
    env = local_env()
    now = dt.datetime.now(dt.UTC)
    guard = installed(phase_policy(["postdeploy"]))
    access = AwsAccess(env, endpoint_url=demo.endpoint, read_only=True, guard=guard)
    _, problems = recent_errors(access, env, now)
    assert problems == []
    with pytest.raises(ReadOnlyViolation, match="refused logs:FilterLogEvents"):
        access.client("logs").filter_log_events(logGroupName=env.log_groups[0])
    with pytest.raises(ReadOnlyViolation, match="refused logs:GetLogEvents"):
        access.client("logs").get_log_events(logGroupName=env.log_groups[0], logStreamName="x")
    outcomes = [(c.name, c.outcome) for c in guard.ledger.calls]
    assert outcomes.count(("logs:FilterLogEvents", "ok")) == len(env.log_groups)
    assert ("logs:FilterLogEvents", "refused") in outcomes
    # In an audit run, even the triage may not read log events.
    audit = installed(phase_policy(["audit"]))
    audit_access = AwsAccess(env, endpoint_url=demo.endpoint, read_only=True, guard=audit)
    _, problems = recent_errors(audit_access, env, now)
    assert len(problems) == len(env.log_groups)
    assert audit.ledger.summary()["refused_calls"] == ["logs:FilterLogEvents"]


def test_each_collector_sends_only_what_it_declares(demo: EmulatorProcess) -> None:
    env = local_env()
    target = Target(
        environment=env.name,
        account=env.account_id,
        regions=tuple(env.regions),
        endpoint=demo.endpoint,
        emulated=True,
        seed=demo.seed,
    )
    seen: set[str] = set()
    for c in ALL:
        guard = Guard(Policy(f"only {c.kind}", c.reads | IDENTITY_READS))
        installation = intercept.install(guard)
        try:
            access = AwsAccess(env, endpoint_url=demo.endpoint, read_only=True, guard=guard)
            result = take_snapshot(access, env, target, [c], window_hours=24)
        finally:
            intercept.uninstall(installation)
        summary = guard.ledger.summary()
        assert summary["refused_calls"] == [], f"{c.kind}: {summary['refused_calls']}"
        assert not result.problems, result.problems
        sent = {call.name for call in guard.ledger.calls}
        assert sent <= c.reads | IDENTITY_READS, c.kind
        seen |= sent
    assert len(seen) > 60


# -- a careless custom check in a real run -----------------------------------------------

CARELESS_CHECK = """
import boto3
import pytest

pytestmark = [pytest.mark.audit, pytest.mark.warning]
INSTANCE = {instance!r}


@pytest.mark.check(id="careless-cleanup", title="A careless custom check", category="operations")
def test_careless_cleanup():
    try:
        boto3.client("s3", endpoint_url={endpoint!r}).create_bucket(Bucket="careless-bucket")
    except Exception:
        pass
    try:
        boto3.Session().client("iam").create_user(UserName="careless-user")
    except Exception:
        pass
    try:
        boto3.client("ec2").terminate_instances(InstanceIds=[INSTANCE])
    except Exception:
        pass


@pytest.mark.check(id="careless-live", title="A careless check with aws", category="operations")
def test_careless_live(aws):
    try:
        aws.session.client("s3", endpoint_url=aws.endpoint_url).create_bucket(Bucket="careless-b2")
    except Exception:
        pass
    try:
        aws.writer().client("ec2").terminate_instances(InstanceIds=[INSTANCE])
    except Exception:
        pass
"""


def careless_tree(tmp_path: Path, endpoint: str, instance: str) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "conftest.py", "readiness.toml", "waivers.toml"):
        shutil.copy(REPO / name, tree / name)
    shutil.copytree(REPO / "checks", tree / "checks", ignore=shutil.ignore_patterns("__pycache__"))
    module = CARELESS_CHECK.format(endpoint=endpoint, instance=instance)
    (tree / "checks" / "audit" / "test_careless.py").write_text(module)
    return tree


def run_tree(tree: Path, args: list[str], emulator: EmulatorProcess) -> SuiteRun:
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    env.update(emulator.attach_environment())
    # What a careless check's plain clients pick up: the emulator, made-up keys.
    env.update(
        AWS_ENDPOINT_URL=emulator.endpoint,
        AWS_ACCESS_KEY_ID=KEYS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=KEYS["aws_secret_access_key"],
        AWS_DEFAULT_REGION=REGION,
    )
    out = tree / "out"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--report-dir={out}"]
    done = subprocess.run(
        command + args, cwd=tree, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    return SuiteRun(done.returncode, done.stdout, done.stderr, out)


@pytest.fixture(scope="module")
def instance(demo: EmulatorProcess) -> str:
    ec2 = EmulatorControl(demo.endpoint).client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    reservation = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    return str(reservation["Instances"][0]["InstanceId"])


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_careless_check_cannot_change_aws_nor_hide_it(
    demo: EmulatorProcess, instance: str, tmp_path: Path, workers: list[str]
) -> None:
    tree = careless_tree(tmp_path, demo.endpoint, instance)
    run = run_tree(tree, ["-m", "audit", "--env", "local", *workers], demo)
    assert "Traceback" not in run.stdout + run.stderr, run.stdout[-3000:]
    assert run.returncode == 2, run.stdout[-3000:]
    verdict = run.verdict
    assert verdict["verdict"] == "NO_GO"
    where = "checks/audit/test_careless.py::test_careless_cleanup"
    expected = [
        f"read-only run: refused {name} (called from {where})"
        for name in ("s3:CreateBucket", "iam:CreateUser", "ec2:TerminateInstances")
    ]
    for line in expected:
        assert line in verdict["problems"], verdict["problems"]
    [row] = [r for r in verdict["results"] if r["check_id"] == "careless-cleanup"]
    assert row["outcome"] == "passed"  # the check swallowed the refusals ...
    calls = run.json("api-calls.json")  # ... which the ledger kept all the same
    assert {"s3:CreateBucket", "iam:CreateUser", "ec2:TerminateInstances"} <= set(
        calls["refused_calls"]
    )
    refused = [c for c in calls["calls"] if c["outcome"] == "refused"]
    assert {c["called_from"] for c in refused} >= {where}
    assert calls["mutating_calls"] == []
    allowed = allow_list(["audit"])
    sent = {f"{c['service']}:{c['operation']}" for c in calls["calls"] if c not in refused}
    assert sent <= allowed, sent - allowed
    policy = run.json("iam-policy.json")["Statement"][0]["Action"]
    assert "iam:CreateUser" not in policy and "ec2:TerminateInstances" not in policy
    if not workers:  # the `aws` fixture is live on the controller only
        live = "checks/audit/test_careless.py::test_careless_live"
        assert f"read-only run: refused s3:CreateBucket (called from {live})" in verdict["problems"]
        assert (
            f"read-only run: refused ec2:TerminateInstances (called from {live})"
            in (verdict["problems"])
        )
    # The emulator, read directly: nothing changed.
    control = EmulatorControl(demo.endpoint)
    buckets = {b["Name"] for b in control.client("s3").list_buckets()["Buckets"]}
    assert not buckets & {"careless-bucket", "careless-b2"}
    described = control.client("ec2").describe_instances(InstanceIds=[instance])
    assert described["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
    users = {u["UserName"] for u in control.client("iam").list_users()["Users"]}
    assert "careless-user" not in users


def test_an_in_process_run_leaves_no_guard_behind(
    pytester: pytest.Pytester, demo: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = BaseClient.__dict__["_make_api_call"]
    pytester.makeini("[pytest]\nreadiness_gate = true\ntestpaths = checks\n")
    pytester.makeconftest('pytest_plugins = ["reports.plugin", "readiness.pytest_plugin"]\n')
    (pytester.path / "readiness.toml").write_text((REPO / "readiness.toml").read_text())
    checks = pytester.mkdir("checks")
    (checks / "test_quiet_write.py").write_text(
        "import boto3\nimport pytest\n\n"
        "pytestmark = [pytest.mark.preflight, pytest.mark.warning]\n\n\n"
        '@pytest.mark.check(id="quiet-write", title="Writes quietly", category="operations")\n'
        "def test_quiet_write():\n"
        "    try:\n"
        f"        boto3.client('sqs', endpoint_url={demo.endpoint!r}, region_name='us-east-1',"
        " aws_access_key_id='a', aws_secret_access_key='b').create_queue(QueueName='quiet')\n"
        "    except Exception:\n"
        "        pass\n"
    )
    for key, value in demo.attach_environment().items():
        monkeypatch.setenv(key, value)
    result = pytester.runpytest_inprocess("-m", "preflight", "-p", "no:cacheprovider")
    assert BaseClient.__dict__["_make_api_call"] is original
    verdict = json.loads((pytester.path / "out" / "verdict.json").read_text())
    assert result.ret == 2
    assert (
        "read-only run: refused sqs:CreateQueue (called from checks/test_quiet_write.py::"
        "test_quiet_write)" in verdict["problems"]
    )
    queues = EmulatorControl(demo.endpoint).client("sqs").list_queues().get("QueueUrls", [])
    assert not any(u.endswith("/quiet") for u in queues)


DECLARING_CHECKS = """
import pytest

pytestmark = [pytest.mark.preflight, pytest.mark.warning]


@pytest.mark.aws_reads("ssm:DescribeParameters")
@pytest.mark.check(id="declares-its-read", title="Declares", category="operations")
def test_declares(aws):
    assert "Parameters" in aws.client("ssm").describe_parameters()


@pytest.mark.check(id="reads-undeclared", title="Does not declare", category="operations")
def test_undeclared(aws):
    aws.client("ec2").describe_instances()


@pytest.mark.aws_reads("secretsmanager:GetSecretValue")
@pytest.mark.check(id="declares-a-secret", title="Declares a secret", category="operations")
def test_secret(aws):
    pass
"""


def test_checks_using_aws_declare_their_reads(
    pytester: pytest.Pytester, demo: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nreadiness_gate = true\ntestpaths = checks\n")
    pytester.makeconftest('pytest_plugins = ["reports.plugin", "readiness.pytest_plugin"]\n')
    (pytester.path / "readiness.toml").write_text((REPO / "readiness.toml").read_text())
    (pytester.mkdir("checks") / "test_declaring.py").write_text(DECLARING_CHECKS)
    for key, value in demo.attach_environment().items():
        monkeypatch.setenv(key, value)
    result = pytester.runpytest_inprocess("-m", "preflight", "-p", "no:cacheprovider")
    assert result.ret == 2
    out = pytester.path / "out"
    verdict = json.loads((out / "verdict.json").read_text())
    outcomes = {r["check_id"]: r["outcome"] for r in verdict["results"]}
    assert outcomes["declares-its-read"] == "passed"
    assert outcomes["reads-undeclared"] == "error"
    problems = verdict["problems"]
    # (the reports mask the operation's name in this line: it names a secret)
    assert any(
        p.startswith("checks/test_declaring.py::test_secret: ") and "returns secret values" in p
        for p in problems
    ), problems
    assert (
        "read-only run: refused ec2:DescribeInstances (called from "
        "checks/test_declaring.py::test_undeclared)" in problems
    )
    calls = json.loads((out / "api-calls.json").read_text())
    assert calls["refused_calls"] == ["ec2:DescribeInstances"]
    policy = json.loads((out / "iam-policy.json").read_text())["Statement"][0]["Action"]
    assert "ssm:DescribeParameters" in policy
    assert "ec2:DescribeInstances" not in policy
    assert "secretsmanager:GetSecretValue" not in policy
