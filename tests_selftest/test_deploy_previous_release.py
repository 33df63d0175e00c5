"""The rollback of a stack that existed before the deploy re-applies the previous
release: the configuration of the last successful deploy, with its variables, planned
against the current state through the plan gate, applied, then verified (a plan of it
shows no changes, Phase 2 values read back). Anything else is "partially restored",
exit 2, with every difference named.

Release 1 and release 2 are small offline modules (builtin `terraform_data` only):
release 2 changes an attribute of an existing resource, adds one and removes one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import pytest

from deploy_steps.golive.restored import restored_lines
from deploy_steps.journal import Journal, recovery_needed
from deploy_steps.release import (
    LAST_RELEASE,
    ReleaseError,
    capture_previous,
    configuration_hash,
    last_release,
    record_release,
    usable_configuration,
)
from deploy_steps.rollback import run_rollback
from deploy_steps.terraform_runner import Terraform
from readiness.aws.access import AwsAccess
from readiness.config import STATEFUL_TYPES
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .conftest import REPO
from .test_deploy_rollback import (
    ENV,
    _wait_for,
    app,
    deploy,
    emulator,
    live_state,
    rollback_cli,
    write_config,
)
from .test_deploy_terraform import LOCAL_MODULE, needs_terraform

__all__ = ["emulator"]  # the demo stack with three things for Phase 2 to change

PAUSE_S = 4  # the re-created resource's provisioner: a window to kill the rollback's apply

RELEASE_1 = f"""terraform {{
  backend "local" {{}}
}}

variable "release" {{
  type = string
}}

resource "terraform_data" "kept" {{
  input = {{ size = "small", release = var.release }}
}}

resource "terraform_data" "removed" {{
  input = {{ role = "worker" }}
  provisioner "local-exec" {{
    command = "sleep {PAUSE_S}"
  }}
}}

resource "terraform_data" "table" {{
  input = {{ stateful = true, type = "aws_dynamodb_table", name = "orders" }}
}}
"""

RELEASE_2 = """terraform {
  backend "local" {}
}

variable "release" {
  type = string
}

resource "terraform_data" "kept" {
  input = { size = "large", release = var.release }
}

resource "terraform_data" "added" {
  input = { role = "cache" }
}

resource "terraform_data" "table" {
  input = { stateful = true, type = "aws_dynamodb_table", name = "orders" }
}
"""

STATEFUL_ADDED = (
    RELEASE_2
    + """
resource "terraform_data" "new_table" {
  input = { stateful = true, type = "aws_dynamodb_table", name = "invoices" }
}
"""
)


def module(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text(text)
    return folder


def shown_state(state_file: Path) -> dict[str, Any]:
    """`terraform show -json` of a state file: address → attribute values, ids left out
    (a resource created again gets a new one)."""
    with tempfile.TemporaryDirectory() as empty:
        done = subprocess.run(
            ["terraform", f"-chdir={empty}", "show", "-json", str(state_file)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env=dict(os.environ, CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=os.devnull),
        )
    values = json.loads(done.stdout).get("values", {})
    resources = values.get("root_module", {}).get("resources", [])
    return {r["address"]: {k: v for k, v in r["values"].items() if k != "id"} for r in resources}


def applied(runner: Terraform, variables: dict[str, Any]) -> None:
    runner.write_vars(variables)
    runner.init()
    runner.plan()
    runner.apply_plan()
    runner.discard_plan()


# -- the release record ----------------------------------------------------------------


def test_a_release_is_recorded_privately_and_its_copy_checked(tmp_path: Path) -> None:
    work = tmp_path / "work"
    source = module(tmp_path / "r1", RELEASE_1)
    none_yet = f"no successful release is recorded in {work / LAST_RELEASE}"
    assert last_release(work) == (None, none_yet)
    record = record_release(
        work,
        source,
        variables={"release": "1"},
        sensitive_names=["db_password"],
        journal=tmp_path / "deploy-journal.json",
    )
    assert record["hash"] == configuration_hash(source)
    assert record["variables"] == {"release": "1"} and record["sensitive_vars"] == ["db_password"]
    found, why = last_release(work)
    assert found == record and why == ""
    copy = Path(record["configuration"])
    assert (copy / "main.tf").read_text() == RELEASE_1
    for path in [work, copy, copy / "main.tf", work / LAST_RELEASE]:
        assert path.stat().st_mode & 0o077 == 0, path
    # A copy that changed is not the release any more: named, never used.
    (copy / "main.tf").write_text(RELEASE_2)
    with pytest.raises(ReleaseError, match="not the recorded one"):
        usable_configuration(copy, record["hash"])
    found, why = last_release(work)
    assert found is None and "not the recorded one" in why
    # A module edited after it was applied is not recorded, and the record is dropped.
    with pytest.raises(ReleaseError, match="changed during the deploy"):
        record_release(
            work,
            source,
            variables={},
            sensitive_names=[],
            journal=tmp_path / "j.json",
            expected_hash="sha256:0",
        )
    assert not (work / LAST_RELEASE).exists()
    # The next release replaces it; only the last one is kept.
    second = record_release(
        work,
        module(tmp_path / "r2", RELEASE_2),
        variables={},
        sensitive_names=[],
        journal=tmp_path / "j.json",
    )
    assert [p.name for p in (work / "releases").iterdir()] == [second["hash"][7:]]


def _journal_of_existing_stack(path: Path, **terraform: Any) -> Journal:
    journal = Journal.create(path, environment="local", config_path=str(REPO / "readiness.toml"))
    record = {
        "module_dir": str(LOCAL_MODULE),
        "work_dir": str(path.parent / "terraform"),
        "state_path": str(path.parent / "terraform" / "terraform.tfstate"),
        "binary": "terraform",
        "destroy_on_rollback": "created",
        "apply_started": True,
        "created": False,
        **terraform,
    }
    journal.set_terraform(**record)
    journal.set_status("failed", "phase 4")
    return journal


def test_an_old_journal_without_the_previous_release_is_partially_restored(
    tmp_path: Path,
) -> None:
    journal = _journal_of_existing_stack(tmp_path / "deploy-journal.json")
    lines: list[str] = []
    report = run_rollback(journal, cast(AwsAccess, None), dry_run=False, say=lines.append)
    assert not report.restored and not report.verified
    assert report.result == "partially restored"
    assert any("records no previous release" in p for p in report.problems), report.problems
    assert report.differences, "the terraform part that was not restored is named"
    data = json.loads(journal.path.read_text())
    assert data["status"] == "rollback-failed"
    assert data["rollback"]["verified"] is False
    assert data["rollback"]["result"] == "partially restored"
    assert any(line.startswith("Rollback: partially restored in ") for line in lines)
    assert recovery_needed(journal.path) is not None


def _two_releases(tmp_path: Path, second: str) -> tuple[Journal, Path, dict[str, Any]]:
    """Release 1 deployed and recorded; release 2 applied over it; the journal that
    deploy of release 2 would have written."""
    work = tmp_path / "out" / "terraform" / "env"
    state = work / "terraform.tfstate"
    one = module(tmp_path / "release-1", RELEASE_1)
    two = module(tmp_path / "release-2", second)
    applied(Terraform(one, work, state_path=state), {"release": "1"})
    record_release(work, one, variables={"release": "1"}, sensitive_names=[], journal=work)
    release_1 = shown_state(state)
    runner = Terraform(two, work, state_path=state)
    runner.write_vars({"release": "2"})
    runner.init()
    previous = capture_previous(
        runner,
        tmp_path / "out" / "previous-release.x",
        stateful_types=STATEFUL_TYPES,
        allow_stateful_replacement=False,
    )
    runner.plan()
    runner.apply_plan()
    runner.discard_plan()
    journal = _journal_of_existing_stack(
        tmp_path / "out" / "deploy-journal.json",
        module_dir=str(two),
        work_dir=str(work),
        state_path=str(state),
        previous=previous,
    )
    return journal, state, release_1


@pytest.mark.terraform
@needs_terraform
def test_the_previous_release_is_re_applied_and_verified(tmp_path: Path) -> None:
    journal, state, release_1 = _two_releases(tmp_path, RELEASE_2)
    assert shown_state(state) != release_1
    previous = journal.data["terraform"]["previous"]
    assert previous["variables"] == {"release": "1"}
    assert previous["state"]["serial"] >= 1 and previous["state"]["lineage"]
    assert Path(previous["state"]["copy"]).stat().st_mode & 0o077 == 0
    report = run_rollback(journal, cast(AwsAccess, None), dry_run=False, say=lambda _l: None)
    assert report.restored and report.verified, report.to_json()
    assert shown_state(state) == release_1
    assert "terraform_data.added" not in release_1 and "terraform_data.removed" in release_1
    data = json.loads(journal.path.read_text())
    assert data["status"] == "rolled-back" and data["rollback"]["verified"] is True
    assert data["terraform"]["restored"] is True
    assert recovery_needed(journal.path) is None
    again = run_rollback(journal, cast(AwsAccess, None), dry_run=False, say=lambda _l: None)
    assert again.restored and any("already at the previous release" in a for a in again.actions)


@pytest.mark.terraform
@needs_terraform
def test_the_rollback_plan_goes_through_the_plan_gate(tmp_path: Path) -> None:
    journal, state, _ = _two_releases(tmp_path, STATEFUL_ADDED)
    before = shown_state(state)
    report = run_rollback(journal, cast(AwsAccess, None), dry_run=False, say=lambda _l: None)
    assert not report.restored
    assert any(
        "terraform_data.new_table (terraform_data standing in for aws_dynamodb_table) would "
        "be deleted; not applied" in p
        for p in report.problems
    ), report.problems
    assert shown_state(state) == before  # nothing applied
    assert json.loads(journal.path.read_text())["rollback"]["result"] == "partially restored"


# -- whole deploys on the emulator ---------------------------------------------------------


def _config(tmp_path: Path, release_module: Path, release: str) -> Path:
    config = write_config(tmp_path, tf_vars=f'release = "{release}"')
    config.write_text(config.read_text().replace(str(LOCAL_MODULE), str(release_module)))
    return config


def _release_1_then_2(
    emulator: EmulatorProcess, tmp_path: Path, *extra: str
) -> tuple[Any, Path, dict[str, Any], dict[str, Any]]:
    out = tmp_path / "out"
    one = module(tmp_path / "release-1", RELEASE_1)
    two = module(tmp_path / "release-2", RELEASE_2)
    first = deploy(_config(tmp_path, one, "1"), out, emulator)
    assert first.returncode == 0, first.stdout[-3000:]
    state = out / "terraform" / ENV / "terraform.tfstate"
    release_1 = shown_state(state)
    phase_2 = live_state(EmulatorControl(emulator.endpoint))
    app(emulator, rate_limit=None)  # the limiter is gone: Phase 4 of release 2 fails
    second = deploy(_config(tmp_path, two, "2"), out, emulator, *extra)
    assert second.returncode == 2, second.stdout[-3000:]
    return second, state, release_1, phase_2


def _assert_release_1(state: Path, release_1: dict[str, Any]) -> None:
    now = shown_state(state)
    assert now == release_1
    assert "terraform_data.added" not in now and "terraform_data.removed" in now
    assert now["terraform_data.kept"]["input"] == {"size": "small", "release": "1"}


@pytest.mark.slow
@pytest.mark.terraform
@needs_terraform
def test_failed_release_2_is_rolled_back_to_release_1(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    run, state, release_1, phase_2 = _release_1_then_2(emulator, tmp_path)
    journal = run.json("deploy-journal.json")
    assert journal["status"] == "rolled-back", journal["events"]
    assert journal["terraform"]["created"] is False
    assert journal["terraform"]["previous"]["variables"] == {"release": "1"}
    assert journal["rollback"]["verified"] is True
    assert journal["rollback"]["result"] == "restored"
    assert journal["rollback"]["within_budget"] is True
    assert "release 1" in journal["rollback"]["release"]
    _assert_release_1(state, release_1)
    assert live_state(EmulatorControl(emulator.endpoint)) == phase_2
    assert "Rollback: restored in " in run.stdout

    again = rollback_cli(tmp_path / "out" / "deploy-journal.json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "restored: state restored and verified" in again.stdout
    assert "already at the previous release" in again.stdout
    _assert_release_1(state, release_1)


@pytest.mark.slow
@pytest.mark.terraform
@needs_terraform
def test_unavailable_previous_release_then_killed_rollback_then_restored(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    _run, state, release_1, _ = _release_1_then_2(emulator, tmp_path, "--no-rollback")
    journal_path = tmp_path / "out" / "deploy-journal.json"
    previous = json.loads(journal_path.read_text())["terraform"]["previous"]
    copy = Path(previous["configuration"]["copy"])
    hidden = copy.with_name("hidden")
    copy.rename(hidden)  # the previous configuration is not available

    partial = rollback_cli(journal_path)
    assert partial.returncode == 2, partial.stdout + partial.stderr
    assert "partially restored" in partial.stdout and "Traceback" not in partial.stderr
    assert f"the previous configuration {copy} is not available" in partial.stderr
    for named in (
        "DIFFERENCE: terraform: terraform_data.added: in the state, not in the previous release",
        "DIFFERENCE: terraform: terraform_data.removed: in the previous release, missing now",
        "DIFFERENCE: terraform: terraform_data.kept: differs from the previous release in "
        "input, output",
    ):
        assert named in partial.stderr, partial.stderr
    record = json.loads(journal_path.read_text())
    assert record["status"] == "rollback-failed" and record["rollback"]["verified"] is False
    assert len(record["rollback"]["differences"]) == 3

    hidden.rename(copy)
    env = dict(os.environ)
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [sys.executable, "-m", "deploy_steps.cli", "rollback", f"--journal={journal_path}"]
    with (tmp_path / "rollback.out").open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True
        )
        try:
            _wait_for(
                journal_path,
                lambda d: (
                    bool((d.get("rollback") or {}).get("apply_started"))
                    and d["rollback"].get("attempt") == 2
                ),
                timeout=120,
            )
            time.sleep(1.0)  # inside the apply: the re-created resource's provisioner runs
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, (tmp_path / "rollback.out").read_text()
    assert json.loads(journal_path.read_text())["status"] == "rolling-back"

    done = rollback_cli(journal_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restored: state restored and verified" in done.stdout
    _assert_release_1(state, release_1)
    final = json.loads(journal_path.read_text())
    assert final["status"] == "rolled-back" and final["rollback"]["verified"] is True
    assert recovery_needed(journal_path) is None


def test_the_incident_record_names_the_release_restored(tmp_path: Path) -> None:
    journal = _journal_of_existing_stack(tmp_path / "deploy-journal.json")
    run_rollback(journal, cast(AwsAccess, None), dry_run=False, say=lambda _l: None)
    lines = restored_lines(str(journal.path))
    assert lines[0].startswith("- Release restored: none (the previous release is unknown)")
    assert "PARTIALLY restored, not verified" in lines[0]
    assert lines[1].startswith("- Rollback took ") and lines[1].endswith("(budget 5 min)")
    assert any(line.startswith("- Difference: terraform: ") for line in lines[2:]), lines
    assert restored_lines(str(tmp_path / "missing.json")) == [
        "- Release restored: unknown (the journal has no rollback record)"
    ]
