"""Real runs of the four phases against the emulator, on the demo stack plus an Aurora
cluster: every call each run made is an action of that phase's static policy
(`readiness policy PHASE`), the deploy's writes among its writes, the cluster read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from deploy_steps import policy_cli
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl
from readiness.policy import PHASES, WRITES_SID, iam_action_of

from .conftest import SuiteRun, run_suite

pytestmark = pytest.mark.slow
AURORA = "prod-aurora"


def _add_aurora(control: EmulatorControl) -> None:
    """An Aurora PostgreSQL cluster with a member in each of two zones."""
    rds = control.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier=AURORA,
        Engine="aurora-postgresql",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        DeletionProtection=True,
        StorageEncrypted=True,
        BackupRetentionPeriod=14,
        Tags=[{"Key": "Environment", "Value": "production"}],
    )
    for number, zone in enumerate(("us-east-1a", "us-east-1b"), 1):
        rds.create_db_instance(
            DBInstanceIdentifier=f"{AURORA}-{number}",
            DBClusterIdentifier=AURORA,
            DBInstanceClass="db.r6g.large",
            Engine="aurora-postgresql",
            AvailabilityZone=zone,
            PubliclyAccessible=False,
        )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SuiteRun]]:
    out = tmp_path_factory.mktemp("phases")
    with EmulatorProcess.start("demo") as emulator:
        control = EmulatorControl(emulator.endpoint)
        _add_aurora(control)
        # Something for Phase 2 to write.
        control.client("rds").modify_db_instance(
            DBInstanceIdentifier="prod-db", EnablePerformanceInsights=False, ApplyImmediately=True
        )
        yield {
            phase: run_suite(["-m", phase, "--env", "local", "-q"], out / phase, attach=emulator)
            for phase in PHASES
        }


def _ledgers(run: SuiteRun) -> list[tuple[str, dict[str, Any]]]:
    """The run's ledger, and for a deploy the one of the audit its Phase 3 ran."""
    found = [(run.out.name, run.json("api-calls.json"))]
    phase3 = run.out / "deploy-phase3" / "api-calls.json"
    if phase3.is_file():
        found.append(("deploy-phase3", json.loads(phase3.read_text(encoding="utf-8"))))
    return found


@pytest.mark.parametrize("phase", PHASES)
def test_every_call_of_a_run_is_in_its_phase_policy(runs: dict[str, SuiteRun], phase: str) -> None:
    run = runs[phase]
    document = policy_cli.policy(phase)
    allowed = {a for s in document["Statement"] for a in s["Action"]}
    writes = {a for s in document["Statement"] if s["Sid"] == WRITES_SID for a in s["Action"]}
    ledgers = _ledgers(run)
    assert ledgers[0][1]["total_calls"] > 0, run.stdout[-2000:]
    for name, ledger in ledgers:
        assert ledger["refused_calls"] == [], name
        # By service and operation: the reports mask `secretsmanager:ListSecrets` in
        # the iam_action field as if it were a secret given as key:value.
        sent = {
            iam_action_of(f"{c['service']}:{c['operation']}")
            for c in ledger["calls"]
            if c["grant"] in ("read", "write")
        }
        assert sent - allowed == set(), f"{name}: calls outside `readiness policy {phase}`"
        assert set(ledger["mutating_calls"]) <= writes, name
    if phase == "deploy":
        assert [n for n, _ in ledgers] == ["deploy", "deploy-phase3"]
        assert "rds:ModifyDBInstance" in ledgers[0][1]["mutating_calls"]
        # Phase 4 ran: its canary read is among the calls judged.
        assert "synthetics:DescribeCanariesLastRun" in ledgers[0][1]["by_operation"]


@pytest.mark.parametrize("phase", ("audit", "postdeploy", "deploy"))
def test_an_aurora_account_is_read_whole(runs: dict[str, SuiteRun], phase: str) -> None:
    run = runs[phase]
    assert "rds:DescribeDBClusters" in run.json("api-calls.json")["by_operation"]
    members = [
        r
        for r in run.json("inventory.json")["kinds"]["rds.db_instances"]["us-east-1"]["records"]
        if str(r["id"]).startswith(AURORA)
    ]
    assert len(members) == 2
    for member in members:
        assert member["data"]["DBCluster"]["DBClusterIdentifier"] == AURORA
        assert "DBCluster" not in member["data"].get("_unavailable", {})
