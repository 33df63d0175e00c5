"""Every declaration is complete, for every branch: what the code can send (read from its
syntax, tests_selftest/aws_sends.py) is exactly what its owner declares, so the policy
made of the declarations holds every call a run can make, and nothing it never makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy_steps import services, validation
from readiness.check_reads import CheckReadsError, check_reads, module_reads
from readiness.inventory.collect import Collector
from readiness.inventory.collectors import ALL
from readiness.inventory.runner import IDENTITY_READS
from readiness.notify import SENDS as NOTIFY_SENDS
from readiness.postdeploy.triage import READS as TRIAGE_READS

from .aws_sends import REPO, sends_of_function, sends_of_module


@pytest.mark.parametrize("collector", ALL, ids=lambda c: c.kind)
def test_a_collector_declares_every_operation_it_can_send_and_no_other(
    collector: Collector,
) -> None:
    found = sends_of_function(collector.read.__module__, collector.read.__name__)
    assert found.problems == []
    assert found.sends - collector.reads == set(), "it sends operations it does not declare"
    assert collector.reads - found.sends == set(), "it declares operations it never sends"


def test_the_collectors_together_send_the_operations_of_every_area() -> None:
    every = set().union(*(sends_of_function(c.read.__module__, c.read.__name__).sends for c in ALL))
    # The branches a demo run may never take are among them.
    assert {
        "rds:DescribeDBClusters",
        "synthetics:GetCanaryRuns",
        "cloudwatch:GetMetricStatistics",
        "s3control:GetPublicAccessBlock",
        "backup:GetBackupSelection",
    } <= every
    assert len(every) > 70


# Modules that send AWS calls besides the collectors, and the declaration that covers them.
MACHINERY = {
    "readiness/inventory/runner.py": IDENTITY_READS,
    "readiness/context.py": IDENTITY_READS,
    "readiness/postdeploy/triage.py": TRIAGE_READS,
    "readiness/postdeploy/plugin.py": TRIAGE_READS,
    "readiness/notify.py": NOTIFY_SENDS,
    "deploy_steps/services.py": services.READS | services.WRITES,
    "deploy_steps/validation.py": validation.CANARY_READS,
}
# They hand out clients of any service: what is sent is what their callers ask for.
GENERIC = {"readiness/aws/access.py", "readiness/inventory/fetch.py"}
COLLECTORS = "readiness/inventory/collectors/"


def _project_modules() -> list[str]:
    """Every module of the code a phase runs (the emulator, which seeds, is not one)."""
    found = []
    for package in ("readiness", "deploy_steps", "reports"):
        for path in sorted((REPO / package).rglob("*.py")):
            label = path.relative_to(REPO).as_posix()
            if not label.startswith("readiness/emulator/") and label not in GENERIC:
                found.append(label)
    return found


@pytest.mark.parametrize("label", _project_modules())
def test_whatever_sends_aws_calls_is_declared(label: str) -> None:
    found = sends_of_module(REPO / label)
    if label.startswith(COLLECTORS):
        # Helpers taking the operation as a parameter are followed from each collector
        # (test above); here, everything the module can send is one of its declarations.
        module = label.removesuffix(".py").replace("/", ".")
        declared = {n for c in ALL if c.read.__module__ == module for n in c.reads}
        assert found.sends <= declared
        return
    assert found.problems == []
    assert found.sends == MACHINERY.get(label, frozenset()), "a new sender: declare its calls"


def test_each_phase_2_kind_declares_its_reads_and_writes_apart() -> None:
    for name, kind in services.KINDS.items():
        assert kind.reads and kind.writes, name
        assert all(":Describe" in r for r in kind.reads), name
        assert not kind.reads & kind.writes, name
    wanted = {"rds:ModifyDBInstance", "ecs:UpdateService", "dynamodb:UpdateTimeToLive"}
    assert wanted == services.WRITES


def test_checks_that_send_declare_what_they_send() -> None:
    # Every check module can be read for its declarations.
    assert check_reads(REPO / "checks").keys() <= {"preflight", "audit", "deploy", "postdeploy"}
    for path in sorted((REPO / "checks").rglob("test_*.py")):
        label = path.relative_to(REPO).as_posix()
        found = sends_of_module(path)
        assert found.problems == [], label
        own = set().union(*module_reads(path, label).values()) if found.sends else set()
        assert found.sends <= own, f"{label} sends {sorted(found.sends - own)} undeclared"


# -- the static reading itself -------------------------------------------------------


def _sends(tmp_path: Path, source: str) -> tuple[set[str], list[str]]:
    path = tmp_path / "sample.py"
    path.write_text(source, encoding="utf-8")
    found = sends_of_module(path, only="collect")
    return found.sends, found.problems


def test_the_reading_follows_helpers_clients_paginators_and_waiters(tmp_path: Path) -> None:
    sends, problems = _sends(
        tmp_path,
        """
def pages(ctx, service, region, operation):
    return ctx.fetch.call(service, region, operation)


def collect(ctx, region, aws):
    pages(ctx, "synthetics", region, "get_canary_runs")
    ctx.each([1], lambda _: ctx.fetch.pages("rds", region, "describe_db_clusters", "DBClusters"))
    ddb = aws.client("dynamodb", region)
    ddb.get_paginator("list_tables")
    ddb.get_waiter("table_exists")
    keep = ddb.update_time_to_live
    aws.client("ecs").update_service(cluster="c", service="s")

    def later():
        return ctx.fetch.call("cloudwatch", region, "get_metric_statistics")

    return later, keep
""",
    )
    assert problems == []
    assert sends == {
        "synthetics:GetCanaryRuns",
        "rds:DescribeDBClusters",
        "dynamodb:ListTables",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateTimeToLive",
        "ecs:UpdateService",
        "cloudwatch:GetMetricStatistics",
    }


def test_what_the_reading_cannot_follow_is_a_problem(tmp_path: Path) -> None:
    sends, problems = _sends(
        tmp_path,
        """
def collect(ctx, region, names):
    for name in names:
        ctx.fetch.call("rds", region, name)
    ctx.fetch.call("rds", region, "describe_nothing_at_all")
""",
    )
    assert sends == set()
    assert [p.split(": ", 1)[1] for p in problems] == [
        "cannot tell which service or operation this sends",
        "rds has no operation 'describe_nothing_at_all'",
    ]


# -- the checks' own declarations ------------------------------------------------------


def test_check_reads_are_read_per_phase(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_live.py").write_text(
        """
import pytest

pytestmark = [pytest.mark.audit, pytest.mark.warning]


@pytest.mark.aws_reads("sqs:ListQueues", "sqs:GetQueueAttributes")
def test_queues(aws):
    pass


@pytest.mark.postdeploy
@pytest.mark.aws_reads("ecs:ListClusters")
def test_clusters(aws):
    pass
""",
        encoding="utf-8",
    )
    assert check_reads(tmp_path / "checks") == {
        "audit": {"sqs:ListQueues", "sqs:GetQueueAttributes", "ecs:ListClusters"},
        "postdeploy": {"ecs:ListClusters"},
    }


@pytest.mark.parametrize(
    ("decorator", "message"),
    [
        ("@pytest.mark.aws_reads(NAMES)", r"checks/test_bad.py:\d+: aws_reads takes string"),
        (
            '@pytest.mark.aws_reads("secretsmanager:GetSecretValue")',
            "GetSecretValue returns secret values",
        ),
    ],
)
def test_an_unreadable_or_forbidden_check_declaration_is_named(
    tmp_path: Path, decorator: str, message: str
) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_bad.py").write_text(
        f"import pytest\n\npytestmark = [pytest.mark.audit]\n\n\n{decorator}\n"
        "def test_x(aws):\n    pass\n",
        encoding="utf-8",
    )
    with pytest.raises(CheckReadsError, match=message):
        check_reads(tmp_path / "checks")
