"""The terraform runner over the real binary (offline: builtin resources only), and the
plan gate on real `terraform show -json` plans."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deploy_steps import plan_gate
from deploy_steps.terraform_runner import (
    Terraform,
    TerraformError,
    TerraformMissing,
    terraform_environment,
)
from readiness.config import STATEFUL_TYPES

from .conftest import REPO

LOCAL_MODULE = REPO / "deploy_steps" / "terraform" / "local"
NO_TERRAFORM = "the terraform binary is not on PATH (install Terraform 1.5+ to run this)"
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason=NO_TERRAFORM)


def runner(
    tmp_path: Path, module: Path = LOCAL_MODULE, lines: list[str] | None = None
) -> Terraform:
    work = tmp_path / "work"
    return Terraform(
        module,
        work,
        state_path=work / "terraform.tfstate",
        progress=(lines.append if lines is not None else None),
    )


@pytest.mark.terraform
@needs_terraform
def test_local_module_round_trip_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Any registry access would go through a proxy that does not answer.
    for variable in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    lines: list[str] = []
    tf = runner(tmp_path, lines=lines)
    tf.write_vars({"tables": ["t1"], "queues": []})
    tf.init()
    assert tf.state_summary() == (None, [])
    tf.plan()
    review = plan_gate.review(tf.show_plan(), STATEFUL_TYPES, allow=False)
    assert (review.add, review.change, review.destroy) == (2, 0, 0)
    assert not review.refused
    tf.apply_plan()
    serial, addresses = tf.state_summary()
    assert serial is not None and serial >= 1
    assert sorted(addresses) == ["terraform_data.release", 'terraform_data.table["t1"]']
    assert tf.outputs()["tables"] == ["t1"]
    # Progress was streamed as it came, as terraform's own messages.
    assert any("Apply complete" in line for line in lines), lines
    # The module folder stays clean: data dir and state live in the work folder.
    assert not (LOCAL_MODULE / ".terraform").exists()
    assert not (LOCAL_MODULE / "terraform.tfstate").exists()
    assert (tmp_path / "work" / "terraform.tfstate").exists()

    # Deleting the table: the gate refuses it; allowed only when the environment says so.
    tf.write_vars({"tables": [], "queues": []})
    tf.plan()
    plan = tf.show_plan()
    refused = plan_gate.review(plan, STATEFUL_TYPES, allow=False)
    assert refused.refused and refused.destroy == 1
    assert [d.address for d in refused.destructive] == ['terraform_data.table["t1"]']
    assert "aws_dynamodb_table" in refused.destructive[0].describe()
    assert not plan_gate.review(plan, STATEFUL_TYPES, allow=True).refused

    # A new release replaces the stateless marker: no refusal.
    tf.write_vars({"tables": ["t1"], "queues": [], "release": "next"})
    tf.plan()
    replaced = plan_gate.review(tf.show_plan(), STATEFUL_TYPES, allow=False)
    assert (replaced.add, replaced.destroy) == (1, 1) and not replaced.refused

    tf.destroy()
    assert tf.state_summary()[1] == []


@pytest.mark.terraform
@needs_terraform
def test_error_diagnostic_names_the_resource(tmp_path: Path) -> None:
    module = tmp_path / "bad"
    module.mkdir()
    (module / "main.tf").write_text(
        'variable "approved" {\n  default = false\n}\n'
        'resource "terraform_data" "guarded" {\n'
        "  input = 1\n"
        "  lifecycle {\n"
        "    precondition {\n"
        "      condition     = var.approved\n"
        '      error_message = "the release is not approved"\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    tf = Terraform(module, tmp_path / "work")
    tf.init()
    with pytest.raises(TerraformError) as caught:
        tf.plan()
    message = str(caught.value)
    assert "terraform plan failed" in message
    assert "terraform_data.guarded" in message
    assert "the release is not approved" in message


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TerraformMissing, match="not found on PATH: install Terraform"):
        Terraform(LOCAL_MODULE, tmp_path, binary="terraform-not-installed-here")


def test_no_user_cli_configuration(tmp_path: Path) -> None:
    env = terraform_environment(
        tmp_path, {"TF_CLI_ARGS_plan": "-refresh=false", "TF_CLI_CONFIG_FILE": "/root/.tfrc"}
    )
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["TF_IN_AUTOMATION"] == "1"
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "empty.tfrc")
    assert (tmp_path / "empty.tfrc").read_text() == ""
    assert "TF_CLI_ARGS_plan" not in env


def _change(address: str, rtype: str, name: str, actions: list[str], **before: object) -> dict:
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "change": {"actions": actions, "before": before or None, "after": None},
    }


@pytest.mark.parametrize(
    ("rtype", "name", "actions", "refused"),
    [
        ("aws_db_instance", "main", ["delete"], True),
        ("aws_rds_cluster", "main", ["delete", "create"], True),
        ("aws_dynamodb_table", "sessions", ["create", "delete"], True),
        ("aws_s3_bucket", "logs", ["delete"], True),
        ("aws_kms_key", "data", ["delete"], True),
        ("aws_efs_file_system", "shared", ["delete"], True),
        ("aws_sqs_queue", "jobs", ["delete"], True),
        ("aws_elasticache_replication_group", "cache", ["delete"], True),
        ("aws_dynamodb_table", "sessions", ["update"], False),
        ("aws_ecs_service", "api", ["delete", "create"], False),
        ("aws_security_group_rule", "x", ["delete"], False),
        ("null_resource", "stateful_marker", ["delete"], True),
    ],
)
def test_gate_judges_by_type(rtype: str, name: str, actions: list[str], refused: bool) -> None:
    plan = {"resource_changes": [_change(f"{rtype}.{name}", rtype, name, actions)]}
    review = plan_gate.review(plan, STATEFUL_TYPES, allow=False)
    assert review.refused is refused
    if refused:
        assert review.destructive[0].address == f"{rtype}.{name}"


def test_gate_reads_stand_ins_and_counts_like_terraform() -> None:
    plan = {
        "resource_changes": [
            _change(
                "terraform_data.table",
                "terraform_data",
                "table",
                ["delete"],
                input={"stateful": True, "type": "aws_dynamodb_table"},
            ),
            _change("terraform_data.release", "terraform_data", "release", ["delete", "create"]),
            _change("aws_iam_role.app", "aws_iam_role", "app", ["update"]),
            _change("aws_iam_role.new", "aws_iam_role", "new", ["create"]),
            _change("aws_iam_role.same", "aws_iam_role", "same", ["no-op"]),
        ]
    }
    review = plan_gate.review(plan, STATEFUL_TYPES, allow=False)
    assert (review.add, review.change, review.destroy, review.unchanged) == (2, 1, 2, 1)
    assert [d.address for d in review.destructive] == ["terraform_data.table"]
    assert "aws_dynamodb_table" in review.destructive[0].kind
    assert review.to_json()["refused"] is True
    assert plan_gate.review(plan, ["aws_iam_*"], allow=False).refused  # configurable types
