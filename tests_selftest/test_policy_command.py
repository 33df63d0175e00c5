"""`readiness policy PHASE`: the complete IAM policy of a phase, from the declarations;
docs/policies/ holds the four of them, kept current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deploy_steps import cli, policy_cli, services, validation
from readiness.inventory.allowlist import allow_list
from readiness.policy import (
    PHASES,
    DeploySends,
    PolicyError,
    iam_action_of,
    phase_document,
)

from .conftest import REPO

POLICIES = REPO / "docs" / "policies"


def _actions(document: dict[str, Any], sid: str | None = None) -> list[str]:
    return [a for s in document["Statement"] if sid in (None, s["Sid"]) for a in s["Action"]]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["policy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("phase", PHASES)
def test_docs_policies_are_current(phase: str) -> None:
    shipped = (POLICIES / f"{phase}.json").read_text(encoding="utf-8")
    assert shipped == policy_cli.render(policy_cli.policy(phase)), (
        f"docs/policies/{phase}.json is stale: regenerate with `{policy_cli.REGENERATE}`"
    )


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarms"),
        ("elbv2:DescribeTags", "elasticloadbalancing:DescribeTags"),
        ("s3:GetBucketEncryption", "s3:GetEncryptionConfiguration"),
        ("s3control:GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock"),
        ("budgets:DescribeSubscribersForNotification", "budgets:ViewBudget"),
        ("resourcegroupstaggingapi:GetResources", "tag:GetResources"),
        ("sts:GetCallerIdentity", "sts:GetCallerIdentity"),
    ],
)
def test_declared_names_become_iam_actions(name: str, action: str) -> None:
    assert iam_action_of(name) == action


def test_a_phase_policy_is_its_declarations_as_sorted_iam_actions() -> None:
    for phase in ("preflight", "audit", "postdeploy"):
        document = phase_document(phase)
        assert document["Version"] == "2012-10-17"
        actions = _actions(document)
        assert len(actions) == len(set(actions))
        assert set(actions) == {iam_action_of(n) for n in allow_list((phase,))}
        for s in document["Statement"]:
            assert s["Effect"] == "Allow" and s["Resource"] == "*"
            assert s["Action"] == sorted(set(s["Action"])), s["Sid"]
    postdeploy = phase_document("postdeploy")
    assert [s["Sid"] for s in postdeploy["Statement"]] == [
        "ReadinessReads",
        "ReadinessTriageLogEvents",
    ]
    assert _actions(postdeploy, "ReadinessTriageLogEvents") == ["logs:FilterLogEvents"]
    assert "logs:FilterLogEvents" not in _actions(phase_document("audit"))
    assert "rds:DescribeDBClusters" in _actions(phase_document("audit"))


def test_the_deploy_policy_holds_phase_2_writes_and_the_reads_of_what_it_runs() -> None:
    document = policy_cli.policy("deploy")
    assert [s["Sid"] for s in document["Statement"]] == [
        "ReadinessReads",
        "ReadinessDeployWrites",
    ]
    assert _actions(document, "ReadinessDeployWrites") == [
        "dynamodb:UpdateTimeToLive",
        "ecs:UpdateService",
        "rds:ModifyDBInstance",
    ]
    reads = set(_actions(document, "ReadinessReads"))
    # Its own collectors, the audit that Phase 3 runs again, Phase 2's and Phase 4's reads.
    for phase in ("deploy", "audit"):
        assert {iam_action_of(n) for n in allow_list((phase,))} <= reads
    assert {iam_action_of(n) for n in services.READS | validation.CANARY_READS} <= reads
    # Nothing only the post-deploy windows read.
    assert "synthetics:GetCanaryRuns" not in reads
    assert "logs:FilterLogEvents" not in reads
    with pytest.raises(PolicyError, match="needs what the deploy steps send"):
        phase_document("deploy")
    writes = phase_document("deploy", deploy=DeploySends(writes=frozenset({"ecs:UpdateService"})))
    assert _actions(writes, "ReadinessDeployWrites") == ["ecs:UpdateService"]


def test_check_reads_join_their_phase_policy() -> None:
    extra = {"audit": frozenset({"sqs:ListDeadLetterSourceQueues"})}
    assert "sqs:ListDeadLetterSourceQueues" in _actions(phase_document("audit", check_reads=extra))
    assert "sqs:ListDeadLetterSourceQueues" not in _actions(
        phase_document("preflight", check_reads=extra)
    )
    deploy = phase_document("deploy", check_reads=extra, deploy=DeploySends())
    assert "sqs:ListDeadLetterSourceQueues" in _actions(deploy)


def test_the_command_counts_the_reads_of_another_checks_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_live.py").write_text(
        "import pytest\n\npytestmark = [pytest.mark.audit, pytest.mark.warning]\n\n\n"
        '@pytest.mark.aws_reads("sqs:ListDeadLetterSourceQueues")\n'
        "def test_dead_letters(aws):\n    pass\n",
        encoding="utf-8",
    )
    code, out, _ = _run(capsys, "audit", "--checks", str(checks))
    assert code == 0
    assert "sqs:ListDeadLetterSourceQueues" in _actions(json.loads(out))
    code, out, _ = _run(capsys, "preflight", "--checks", str(checks))
    assert "sqs:ListDeadLetterSourceQueues" not in _actions(json.loads(out))
    code, out, err = _run(capsys, "audit", "--checks", str(tmp_path / "none"))
    assert code == 2 and out == ""
    assert err.strip() == f"readiness policy: {tmp_path / 'none'}: no such checks folder"


def test_the_command_prints_the_policy_and_names_terraform_for_deploy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _run(capsys, "audit")
    assert code == 0 and err == ""
    assert json.loads(out) == policy_cli.policy("audit")
    code, out, err = _run(capsys, "deploy")
    assert code == 0
    assert json.loads(out)["Statement"][1]["Sid"] == "ReadinessDeployWrites"
    assert "terraform" in err and "module's responsibility" in err
    assert len(err.strip().splitlines()) == 1


def test_the_command_writes_the_four_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = _run(capsys, "--write", str(tmp_path / "policies"))
    assert code == 0
    for phase in PHASES:
        written = (tmp_path / "policies" / f"{phase}.json").read_text(encoding="utf-8")
        assert written == (POLICIES / f"{phase}.json").read_text(encoding="utf-8")
        assert f"{phase}.json" in out


def test_a_notification_topic_is_allowed_to_publish_on_that_topic_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:prod-alerts"
    code, out, _ = _run(capsys, "postdeploy", "--notify-topic", topic)
    assert code == 0
    notify = json.loads(out)["Statement"][-1]
    assert notify == {
        "Sid": "ReadinessNotify",
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": topic,
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "give a PHASE to print, or --write DIR"),
        (("audit", "--write", "somewhere"), "give a PHASE to print, or --write DIR"),
        (("audit", "--notify-topic", "prod-alerts"), "'prod-alerts' is not an SNS topic ARN"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("readiness policy: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_an_unwritable_folder_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, out, err = _run(capsys, "--write", str(blocker / "policies"))
    assert code == 2 and out == ""
    assert err.startswith(f"readiness policy: cannot write {blocker / 'policies'}")
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_phase_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["policy", "staging"])
    assert exited.value.code == 2
    assert "invalid choice: 'staging'" in capsys.readouterr().err
    with pytest.raises(PolicyError, match="unknown phase 'staging'"):
        phase_document("staging")
