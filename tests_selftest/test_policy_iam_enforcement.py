"""`readiness policy audit` is enough, proven with moto's own IAM enforcement.

The emulator is seeded, IAM users are made with their policies and access keys, and
then moto is told to enforce IAM from the next request on: moto reads
INITIAL_NO_AUTH_ACTION_COUNT (requests served before enforcing) when it starts, and
`POST /moto-api/reset-auth` sets that count at run time and restarts the counting, so
enforcement begins exactly after the set-up, however many requests seeding took. From
then on every request must be signed with a key moto issued, and is answered
AccessDenied unless the user's policies allow its action (moto.core.authorization
ActionAuthenticatorMixin, moto.iam.access_control). The signature itself is not
recomputed (readiness/emulator/extensions/iam_enforcement.py says why).

The audit runs as a child pytest session against an environment whose endpoint_url is
the emulator, with each user's keys:

- an administrator (Action "*"): the reference results;
- a user with exactly the audit's policy: the same results, no AccessDenied, no call
  refused by the guard;
- the same policy without one action: only the checks that need it change, to
  not-evaluated.

And each operation any phase declares (the deploy's writes included), sent by a user
with no permission at all, is refused, except those listed in NOT_ENFORCED (see below).

What moto cannot prove here, precisely (moto 5.2):

- moto names some actions otherwise than AWS IAM does, so the users also get the
  policy's actions under moto's names, derived from the policy itself (MOTO_NAMES):
  CloudWatch under its signing name (`monitoring:DescribeAlarms` for
  `cloudwatch:DescribeAlarms`), the tagging API as `tagging:GetResources` (IAM:
  `tag:GetResources`), Budgets by operation (`budgets:DescribeBudgets`, IAM:
  `budgets:ViewBudget`), S3's GetBucketEncryption and GetPublicAccessBlock as
  `s3:ListBucket` (IAM: `s3:GetEncryptionConfiguration`,
  `s3:GetBucketPublicAccessBlock`), S3 Control's as `s3:GetPublicAccessBlock` (IAM:
  `s3:GetAccountPublicAccessBlock`). For these the test proves that the policy holds
  each action, not that AWS's name for it is the right one; those names come from
  readiness.aws.ledger.iam_action and are checked against the AWS service
  authorization reference by hand.
- moto never refuses `sts:GetCallerIdentity`, and it does not see the operations the
  emulator's own extensions answer before moto (NOT_ENFORCED: Backup selections, Cost
  Explorer, cost allocation tags, the Budgets subscribers, GuardDuty findings,
  Synthetics canary runs): for them the policy is
  checked only by the static tests (test_policy_declarations.py) and the ledger
  (test_policy_runs.py). The probe of every operation shows that this list is exact.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from deploy_steps import policy_cli
from readiness.aws.access import AwsAccess
from readiness.check_reads import check_reads
from readiness.config import Environment
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl
from readiness.inventory.allowlist import PHASES, allow_list
from readiness.postdeploy.triage import READS as TRIAGE_READS

from .conftest import REPO, SuiteRun, run_suite

pytestmark = pytest.mark.slow
ENV = "enforced"
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# Moto's names of IAM actions it names otherwise (see the module's docstring).
MOTO_NAMES: dict[str, tuple[str, ...]] = {
    "budgets:ViewBudget": ("budgets:DescribeBudgets", "budgets:DescribeNotificationsForBudget"),
    "tag:GetResources": ("tagging:GetResources",),
    "s3:GetEncryptionConfiguration": ("s3:ListBucket",),
    "s3:GetBucketPublicAccessBlock": ("s3:ListBucket",),
    "s3:GetAccountPublicAccessBlock": ("s3:GetPublicAccessBlock",),
}
MOTO_PREFIXES = {"cloudwatch": "monitoring"}
# The declared operations (service:Operation) that moto answers whoever asks.
NOT_ENFORCED = frozenset(
    {
        "sts:GetCallerIdentity",  # moto allows it always, as AWS does
        # answered by the emulator's extensions, before moto sees the request
        "backup:GetBackupSelection",
        "backup:ListBackupSelections",
        "budgets:DescribeSubscribersForNotification",
        "ce:GetCostAndUsage",
        "ce:GetCostForecast",
        "ce:ListCostAllocationTags",
        "guardduty:GetFindings",
        "guardduty:ListFindings",
        "synthetics:DescribeCanariesLastRun",
        "synthetics:GetCanaryRuns",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})
# One action and the checks that need it (a per-table read: only those checks change).
MISSING = "dynamodb:DescribeContinuousBackups"
NEEDED_BY = {"dynamodb-pitr"}


def moto_names(actions: list[str]) -> list[str]:
    names: set[str] = set()
    for action in actions:
        prefix, _, operation = action.partition(":")
        if action in MOTO_NAMES:
            names.update(MOTO_NAMES[action])
        elif prefix in MOTO_PREFIXES:
            names.add(f"{MOTO_PREFIXES[prefix]}:{operation}")
    return sorted(names)


def without(document: dict[str, Any], removed: frozenset[str]) -> dict[str, Any]:
    statements = [
        {**s, "Action": [a for a in s["Action"] if a not in removed]} for s in document["Statement"]
    ]
    return {**document, "Statement": [s for s in statements if s["Action"]]}


def actions_of(document: dict[str, Any]) -> list[str]:
    return sorted({a for s in document["Statement"] for a in s["Action"]})


@dataclass
class Runs:
    admin: SuiteRun
    policy: SuiteRun
    missing_one: SuiteRun
    document: dict[str, Any]
    endpoint: str
    no_permission: dict[str, str]


def _user(control: EmulatorControl, name: str, documents: dict[str, Any]) -> dict[str, str]:
    iam = control.client("iam")
    iam.create_user(UserName=name)
    for policy_name, document in documents.items():
        iam.put_user_policy(
            UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
        )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def _policies(document: dict[str, Any]) -> dict[str, Any]:
    """The policy as `readiness policy` prints it, and its actions under moto's names."""
    aliases = moto_names(actions_of(document))
    alias = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": aliases, "Resource": "*"}],
    }
    return {"readiness-audit": document, "moto-names-of-the-same-actions": alias}


def _enforce_iam(endpoint: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"


def _config(folder: Path, endpoint: str) -> Path:
    """The `local` environment's audit settings, reached as a custom endpoint."""
    path = folder / "readiness.toml"
    path.write_text(
        f"""default_environment = "{ENV}"

[environments.{ENV}]
account_id = "123456789012"
regions = ["us-east-1", "us-west-2"]
endpoint_url = "{endpoint}"
runbook_url = "https://wiki.example.com/runbooks/go-live"
on_call = "#readiness-ops"
log_groups = ["/ecs/prod-api", "/ecs/prod-worker"]

[environments.{ENV}.scope]
cost_allocation_tags = ["Environment", "Owner"]

[environments.{ENV}.expect]
ecs_clusters = ["prod-cluster"]
sqs_queues = ["prod-jobs", "prod-notifications"]
dynamodb_tables = ["prod-sessions", "prod-orders"]
budgets = ["monthly-production"]
canaries = ["prod-api-health", "prod-web-health"]
alarms = ["prod-api-cpu-high", "prod-db-cpu-high"]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    tmp = tmp_path_factory.mktemp("enforced")
    document = policy_cli.policy("audit")
    with EmulatorProcess.start("demo") as emulator:
        control = EmulatorControl(emulator.endpoint)
        keys = {
            "admin": _user(control, "readiness-admin", {"admin": ADMIN}),
            "policy": _user(control, "readiness-audit", _policies(document)),
            "missing_one": _user(
                control, "readiness-missing-one", _policies(without(document, frozenset({MISSING})))
            ),
        }
        no_permission = _user(control, "readiness-no-permission", {})
        _enforce_iam(emulator.endpoint)
        config = _config(tmp, emulator.endpoint)
        done = {
            name: run_suite(["-m", "audit", f"--config={config}", "-q"], tmp / name, env=env)
            for name, env in keys.items()
        }
        yield Runs(
            document=document, endpoint=emulator.endpoint, no_permission=no_permission, **done
        )


def _results(run: SuiteRun) -> dict[tuple[str, str], str]:
    rows = run.verdict["results"]
    table = {(r["check_id"], r["resource"]): r["outcome"] for r in rows}
    assert len(table) == len(rows), "two results share a check and resource"
    return table


def _denied(run: SuiteRun) -> set[str]:
    calls = run.json("api-calls.json")["calls"]
    return {f"{c['service']}:{c['operation']}" for c in calls if c["outcome"] == "http 403"}


def test_enforcement_is_on_for_every_run(runs: Runs) -> None:
    for name in ("admin", "policy", "missing_one"):
        run: SuiteRun = getattr(runs, name)
        assert "Traceback" not in run.stdout + run.stderr, name
        assert run.verdict["complete"] is True, run.stdout[-3000:]
        user = "readiness-" + name.replace("_", "-") if name != "policy" else "readiness-audit"
        assert f"arn:aws:iam::123456789012:user/{user}" in run.stdout, run.stdout[-3000:]
    reference = _results(runs.admin)
    assert len(reference) > 100
    assert "not-evaluated" not in reference.values(), runs.admin.stdout[-3000:]


def test_the_audit_policy_gives_the_administrators_results(runs: Runs) -> None:
    assert _results(runs.policy) == _results(runs.admin)
    assert _denied(runs.policy) == set()
    calls = runs.policy.json("api-calls.json")
    assert calls["refused_calls"] == []
    assert calls["total_calls"] == runs.admin.json("api-calls.json")["total_calls"]
    text = json.dumps(runs.policy.verdict)
    assert "AccessDenied" not in text and "not authorized" not in text


def test_an_action_left_out_makes_exactly_its_checks_not_evaluated(runs: Runs) -> None:
    assert MISSING in actions_of(runs.document)
    reference = _results(runs.admin)
    reduced = _results(runs.missing_one)
    assert reduced.keys() == reference.keys()
    changed = {key for key in reference if reduced[key] != reference[key]}
    assert changed, "leaving the action out changed nothing: moto did not enforce it"
    assert {check for check, _ in changed} == NEEDED_BY
    assert {reduced[key] for key in changed} == {"not-evaluated"}
    # Every resource of those checks, and nothing else.
    assert changed == {key for key in reference if key[0] in NEEDED_BY}
    assert _denied(runs.missing_one) == {MISSING}


def _placeholder(shape: Any) -> Any:
    """A value of the shape that botocore accepts (the request is refused before use)."""
    kind = shape.type_name
    if kind == "structure":
        return {name: _placeholder(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [_placeholder(shape.member)] if shape.metadata.get("min") else []
    if kind == "map":
        return {}
    if kind in ("integer", "long"):
        return max(1, int(shape.metadata.get("min", 1)))
    if kind in ("double", "float"):
        return 1.0
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    if kind == "blob":
        return b"x"
    if shape.enum:
        return shape.enum[0]
    if kind == "string" and shape.name.endswith("AccountId"):
        return "123456789012"
    return "x" * max(1, int(shape.metadata.get("min", 1)))


def _probe(access: AwsAccess, name: str) -> str:
    service, _, operation = name.partition(":")
    client = access.client(service, "us-east-1")
    shape = client.meta.service_model.operation_model(operation).input_shape
    params = _placeholder(shape) if shape is not None else {}
    try:
        getattr(client, xform_name(operation))(**params)
    except ClientError as exc:
        # moto answers AccessDenied with 403 and an XML body, which JSON services'
        # clients do not parse: the status says it.
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return "refused" if code in DENIED_CODES or status == 403 else f"answered {code}"
    return "answered"


def test_moto_refuses_every_declared_operation_but_those_it_cannot_enforce(runs: Runs) -> None:
    env = Environment(
        name="probe", account_id="123456789012", regions=["us-east-1"], endpoint_url=runs.endpoint
    )
    session = boto3.Session(
        aws_access_key_id=runs.no_permission["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=runs.no_permission["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    # A writer by name (no run guard here): the deploy's writes are probed too.
    access = AwsAccess(env, endpoint_url=runs.endpoint, read_only=False, session=session)
    sends = policy_cli.deploy_sends()
    operations = allow_list(PHASES) | sends.reads | sends.writes
    for names in check_reads(REPO / "checks").values():
        operations |= names
    with access.permit(TRIAGE_READS):
        outcomes = {name: _probe(access, name) for name in sorted(operations)}
    answered = {name for name, outcome in outcomes.items() if outcome != "refused"}
    assert answered == NOT_ENFORCED, {n: outcomes[n] for n in answered ^ NOT_ENFORCED}


def test_a_key_moto_did_not_issue_is_still_refused(runs: Runs) -> None:
    """The emulator leaves out the signature's recomputation, not the key's check."""
    client = boto3.client(
        "iam",
        endpoint_url=runs.endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key=runs.no_permission["AWS_SECRET_ACCESS_KEY"],
    )
    with pytest.raises(ClientError) as refused:
        client.list_users()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_moto_names_are_derived_from_the_policy_itself() -> None:
    assert moto_names(["cloudwatch:DescribeAlarms", "tag:GetResources", "sqs:ListQueues"]) == [
        "monitoring:DescribeAlarms",
        "tagging:GetResources",
    ]
    removed = without(
        {"Statement": [{"Sid": "A", "Action": ["x:A", "x:B"]}, {"Sid": "B", "Action": ["x:C"]}]},
        frozenset({"x:A", "x:C"}),
    )
    assert removed == {"Statement": [{"Sid": "A", "Action": ["x:B"]}]}
