"""Nothing a rollback needs is ever lost, and the rollback reads only what it needs.

- A deploy never overwrites a journal: one whose deploy ended clean is archived, any
  other (unfinished, failed, kept, partly rolled back, unreadable) refuses the deploy
  with one line naming it and the rollback command, untouched byte for byte, unless
  `--archive-journal` sets it aside.
- `readiness rollback` resolves only the `${VAR}`s it uses, and names a missing one (file,
  key, variable) only when it needs it.
- An unknown step state or a malformed terraform record is a problem naming it; the
  rest is reverted and the exit is 2.
- Sensitive terraform variables reach terraform as TF_VAR_name and nowhere on disk;
  everything the deploy writes is 0600 in 0700 folders.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy_steps.journal import (
    FILE_NAME,
    Journal,
    JournalBlocked,
    JournalError,
    JournalLock,
    prepare,
    recovery_needed,
    rollback_command,
    unrecovered_journal,
)
from deploy_steps.rollback_cli import rollback_command as run_rollback_cli
from deploy_steps.terraform_runner import Terraform, TerraformError, terraform_environment
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl

from .conftest import REPO, run_suite
from .test_deploy_rollback import (
    BEFORE,
    ENV,
    _wait_for,
    deploy,
    emulator,
    live_state,
    tf_resources,
    write_config,
)
from .test_deploy_terraform import LOCAL_MODULE, needs_terraform

__all__ = ["emulator"]  # the demo stack with three things for Phase 2 to change

PI_TARGET = {"region": "us-east-1", "db_instance": "prod-db", "retention_days": 7}
PI_OFF = {"enabled": False, "retention_days": None}
PI_ON = {"enabled": True, "retention_days": 7}


def journal_data(status: str, states: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "status": status,
        "environment": "local",
        "config_path": str(REPO / "readiness.toml"),
        "terraform": None,
        "steps": [
            {
                "seq": n + 1,
                "phase": "services",
                "kind": "performance_insights",
                "target": PI_TARGET,
                "before": PI_OFF,
                "intended": PI_ON,
                "after": PI_ON,
                "state": state,
            }
            for n, state in enumerate(states)
        ],
        "phases": [],
        "events": [],
        **extra,
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# -- a deploy never overwrites a journal -------------------------------------------------

UNRECOVERED = [
    pytest.param(json.dumps(journal_data("deploying", ["applied"])), id="killed-mid-deploy"),
    pytest.param(json.dumps(journal_data("deploying", [])), id="killed-before-a-step"),
    pytest.param(json.dumps(journal_data("failed", ["applied"])), id="failed"),
    pytest.param(json.dumps(journal_data("rolling-back", ["reverted", "applied"])), id="rb"),
    pytest.param(json.dumps(journal_data("rollback-failed", ["revert-failed"])), id="rb-failed"),
    pytest.param(json.dumps(journal_data("kept", ["applied"])), id="kept"),
    pytest.param(json.dumps(journal_data("deployed", ["planned"])), id="deployed-half-step"),
    pytest.param(json.dumps(journal_data("rolled-back", ["applied"])), id="rolled-back-partly"),
    pytest.param(
        json.dumps(
            journal_data(
                "rolled-back",
                [],
                terraform={"apply_started": True, "created": True, "destroy_on_rollback": "x"},
            )
        ),
        id="rolled-back-not-destroyed",
    ),
    pytest.param('{"version": 1, "status": "deployed", "steps": [', id="cut-short"),
    pytest.param("not json at all", id="corrupt"),
    pytest.param('{"version": 1, "status": "odd", "environment": "x", "steps": []}', id="odd"),
]


@pytest.mark.parametrize("content", UNRECOVERED)
def test_an_unrecovered_journal_blocks_the_next_deploy_untouched(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(content, encoding="utf-8")
    assert unrecovered_journal(tmp_path) == path
    with pytest.raises(JournalBlocked) as info:
        prepare(path, archive_requested=False)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert f"`readiness rollback --journal {path}`" in message
    assert "--archive-journal" in message
    assert path.read_text(encoding="utf-8") == content  # byte for byte
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]
    with pytest.raises(JournalError, match="never overwritten"):
        Journal.create(path, environment="local")
    assert path.read_text(encoding="utf-8") == content


@pytest.mark.parametrize("content", UNRECOVERED[:3] + UNRECOVERED[-2:])
def test_archive_journal_moves_it_aside_whole_and_never_deletes(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(content, encoding="utf-8")
    archived = prepare(path, archive_requested=True)
    assert archived is not None and archived.parent == tmp_path
    assert archived.name.startswith("deploy-journal.") and archived.name.endswith(".json")
    assert archived.read_text(encoding="utf-8") == content
    assert mode(archived) == 0o600
    assert not path.exists()
    assert unrecovered_journal(tmp_path) is None  # the folder's journal is the next one


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(journal_data("deployed", ["applied", "applied"]), id="deployed"),
        pytest.param(journal_data("deployed", []), id="deployed-no-steps"),
        pytest.param(journal_data("rolled-back", ["reverted"]), id="rolled-back"),
        pytest.param(
            journal_data(
                "rolled-back",
                ["reverted"],
                terraform={
                    "apply_started": True,
                    "created": True,
                    "destroy_on_rollback": "created",
                    "destroyed": True,
                },
            ),
            id="rolled-back-destroyed",
        ),
    ],
)
def test_a_clean_end_is_archived_by_the_next_deploy(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / FILE_NAME
    path.write_text(json.dumps(data), encoding="utf-8")
    text = path.read_bytes()
    assert recovery_needed(path) is None and unrecovered_journal(tmp_path) is None
    first = prepare(path, archive_requested=False)
    assert first is not None and first.read_bytes() == text and not path.exists()
    # The next journal, archived within the same instant, never takes its name.
    Journal.create(path, environment="local").set_status("deployed")
    second = prepare(path, archive_requested=False)
    assert second is not None and second != first
    assert first.read_bytes() == text
    assert json.loads(second.read_text())["events"][0]["status"] == "deployed"
    assert prepare(path, archive_requested=False) is None  # nothing there now


def test_no_journal_means_nothing_to_recover(tmp_path: Path) -> None:
    assert unrecovered_journal(tmp_path) is None
    assert unrecovered_journal(tmp_path / "missing") is None


def test_rollback_command_is_the_exact_line(tmp_path: Path) -> None:
    folder = tmp_path / "a folder"
    folder.mkdir()
    path = folder / FILE_NAME
    assert rollback_command(path) == f"readiness rollback --journal '{path}'"
    relative = Path("out") / FILE_NAME
    assert rollback_command(relative) == f"readiness rollback --journal {Path.cwd() / relative}"


def test_journal_and_lock_are_the_owners_alone(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "report"
    path = folder / FILE_NAME
    with JournalLock(path).acquire("a deploy of local") as lock:
        journal = Journal.create(path, environment="local")
        journal.plan_step("services", "ttl", {"table": "t"}, {"status": "DISABLED"}, {})
        assert mode(lock.path) == 0o600
    assert mode(path) == 0o600
    assert mode(folder) == 0o700 and mode(folder.parent) == 0o700


# -- the rollback: unknown is a problem, and only what it uses is read -------------------


@pytest.fixture(scope="module")
def demo() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("demo") as started:
        yield started


def _pi(control: EmulatorControl) -> dict[str, Any]:
    db = control.client("rds").describe_db_instances(DBInstanceIdentifier="prod-db")
    instance = db["DBInstances"][0]
    enabled = bool(instance["PerformanceInsightsEnabled"])
    return {
        "enabled": enabled,
        "retention_days": instance.get("PerformanceInsightsRetentionPeriod") if enabled else None,
    }


def _set_pi(control: EmulatorControl, on: bool) -> None:
    params: dict[str, Any] = {"PerformanceInsightsRetentionPeriod": 7} if on else {}
    control.client("rds").modify_db_instance(
        DBInstanceIdentifier="prod-db",
        EnablePerformanceInsights=on,
        ApplyImmediately=True,
        **params,
    )


def _deployed_pi(demo: EmulatorProcess, folder: Path, **extra: Any) -> Path:
    """Performance Insights changed by a "deploy" whose journal is `extra` plus that step."""
    control = EmulatorControl(demo.endpoint)
    _set_pi(control, False)
    data = journal_data("deploying", ["applied"], endpoint=demo.endpoint, emulated=True)
    data.update(extra)
    _set_pi(control, True)
    assert _pi(control) == PI_ON
    path = folder / FILE_NAME
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_an_unknown_step_state_is_a_problem_and_the_rest_is_reverted(
    demo: EmulatorProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _deployed_pi(demo, tmp_path)
    data = json.loads(path.read_text())
    odd = dict(data["steps"][0], seq=2, state="half-applied")
    data["steps"].append(odd)
    path.write_text(json.dumps(data))
    assert run_rollback_cli(path, dry_run=False) == 2
    out, err = capsys.readouterr()
    assert "step 2 (rds:us-east-1/prod-db): unknown state 'half-applied'" in err, err
    assert "Traceback" not in out + err
    assert _pi(EmulatorControl(demo.endpoint)) == PI_OFF  # step 1 reverted all the same
    after = json.loads(path.read_text())
    assert after["status"] == "rollback-failed"
    assert [s["state"] for s in after["steps"]] == ["reverted", "half-applied"]
    assert f"finish it with: readiness rollback --journal {path}" in out


@pytest.mark.parametrize(
    ("terraform", "named"),
    [
        ({}, "it has no 'module_dir'"),
        ("applied", "it is 'applied', not an object"),
        (["x"], "it is ['x'], not an object"),
        (
            {
                "module_dir": "m",
                "work_dir": "w",
                "binary": "terraform",
                "destroy_on_rollback": "created",
                "apply_started": "yes",
                "created": True,
            },
            "'apply_started' is 'yes'",
        ),
        (
            {
                "module_dir": "m",
                "work_dir": "w",
                "binary": "terraform",
                "destroy_on_rollback": "sometimes",
                "apply_started": True,
                "created": True,
            },
            "'destroy_on_rollback' is 'sometimes'",
        ),
    ],
)
def test_a_malformed_terraform_record_is_a_problem_and_the_rest_is_reverted(
    demo: EmulatorProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    terraform: Any,
    named: str,
) -> None:
    path = _deployed_pi(demo, tmp_path, terraform=terraform)
    assert run_rollback_cli(path, dry_run=False) == 2
    out, err = capsys.readouterr()
    assert "terraform record is malformed" in err and named in err, err
    assert "Traceback" not in out + err
    assert _pi(EmulatorControl(demo.endpoint)) == PI_OFF
    assert json.loads(path.read_text())["status"] == "rollback-failed"


def _config_with_unset_variables(folder: Path, env: str = "local") -> Path:
    text = (REPO / "readiness.toml").read_text(encoding="utf-8")
    text = text.replace(
        'on_call = "#readiness-ops"',
        'on_call = "#readiness-ops"\nnotify = { webhook_url = "${SLACK_WEBHOOK_URL}" }',
        1,
    )
    text = text.replace(
        'destroy_on_rollback = "created"',
        'destroy_on_rollback = "created"\nterraform_vars = { release = "${DB_PASSWORD}" }',
        1,
    )
    path = folder / "readiness.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rollback_needs_no_variable_it_does_not_use(
    demo: EmulatorProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    config = _config_with_unset_variables(tmp_path)
    path = _deployed_pi(demo, tmp_path, config_path=str(config))
    assert run_rollback_cli(path, dry_run=False) == 0
    out, err = capsys.readouterr()
    assert err == "" and "state restored" in out
    assert _pi(EmulatorControl(demo.endpoint)) == PI_OFF


@pytest.mark.terraform
@needs_terraform
def test_rollback_names_a_missing_variable_only_when_the_destroy_needs_it(
    demo: EmulatorProcess,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DB_PASSWORD", raising=False)
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    config = _config_with_unset_variables(tmp_path)
    work = tmp_path / "terraform" / "local"
    stack = Terraform(
        LOCAL_MODULE,
        work,
        state_path=work / "terraform.tfstate",
        sensitive={"release": "r-2026.12-secret"},
    )
    stack.write_vars({"tables": [], "queues": []})
    stack.init()
    stack.plan()
    stack.apply_plan()
    assert stack.state_summary()[1] == ["terraform_data.release"]
    record = {
        "module_dir": str(LOCAL_MODULE),
        "work_dir": str(work),
        "state_path": str(work / "terraform.tfstate"),
        "binary": "terraform",
        "destroy_on_rollback": "created",
        "sensitive_vars": ["release"],
        "apply_started": True,
        "created": True,
    }
    path = _deployed_pi(demo, tmp_path, config_path=str(config), terraform=record)

    dry = run_rollback_cli(path, dry_run=True)  # reading the state needs no variable
    out, err = capsys.readouterr()
    assert dry == 2 and "would destroy 1 resource(s)" in out and err == "", out + err

    assert run_rollback_cli(path, dry_run=False) == 2
    out, err = capsys.readouterr()
    problems = [line for line in err.splitlines() if "PROBLEM" in line]
    assert problems == [
        f"readiness rollback: PROBLEM: terraform: not destroyed: {config}: "
        "environments.local.deploy.terraform_vars.release: environment variable "
        "DB_PASSWORD is not set"
    ], err
    assert "SLACK_WEBHOOK_URL" not in out + err and "Traceback" not in out + err
    assert _pi(EmulatorControl(demo.endpoint)) == PI_OFF  # the rest is reverted
    assert stack.state_summary()[1] == ["terraform_data.release"]  # nothing destroyed
    assert f"finish it with: readiness rollback --journal {path}" in out

    monkeypatch.setenv("DB_PASSWORD", "r-2026.12-secret")
    assert run_rollback_cli(path, dry_run=False) == 0, capsys.readouterr()
    assert stack.state_summary()[1] == []
    assert recovery_needed(path) is None


# -- sensitive terraform variables --------------------------------------------------------


def test_sensitive_variables_go_through_the_environment_only(tmp_path: Path) -> None:
    env = terraform_environment(
        tmp_path / "work", base={}, variables={"db_password": "pw", "ids": [1, 2]}
    )
    assert env["TF_VAR_db_password"] == "pw" and env["TF_VAR_ids"] == "[1, 2]"
    assert mode(tmp_path / "work") == 0o700 and mode(tmp_path / "work" / "empty.tfrc") == 0o600


@pytest.mark.terraform
@needs_terraform
def test_the_runner_keeps_secrets_off_disk_and_files_private(tmp_path: Path) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    work = tmp_path / "out" / "terraform" / "env"
    lines: list[str] = []
    tf = Terraform(
        LOCAL_MODULE,
        work,
        state_path=work / "terraform.tfstate",
        progress=lines.append,
        sensitive={"db_password": secret},
    )
    with pytest.raises(TerraformError, match="would go to the var file"):
        tf.write_vars({"db_password": secret})
    tf.write_vars({"tables": ["t1"], "queues": []})
    tf.init()
    tf.plan()
    tf.apply_plan()
    assert tf.mask(f"x {secret} y") == "x *** y"
    short = Terraform(
        LOCAL_MODULE, work, state_path=work / "terraform.tfstate", sensitive={"db_password": "s"}
    )
    with pytest.raises(TerraformError, match="at least 12 characters"):
        short.plan()  # the value reached terraform: its validation saw it
    assert_nowhere(tmp_path / "out", secret)
    assert all(secret not in line for line in lines)
    assert_private(tmp_path / "out" / "terraform")


def assert_nowhere(folder: Path, secret: str) -> None:
    """Not in any file under `folder`, nor in any member of a zip (a saved plan)."""
    needle = secret.encode()
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert needle not in data, path
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    assert needle not in archive.read(name), f"{path}:{name}"


def assert_private(folder: Path) -> None:
    assert mode(folder) == 0o700, folder
    for path in folder.rglob("*"):
        if path.is_symlink():
            continue
        expected = 0o700 if path.is_dir() else 0o600
        assert mode(path) & 0o077 == 0 and mode(path) & 0o600 == 0o600, (path, oct(mode(path)))
        if path.is_dir() or path.suffix in (".json", ".tfstate", ".lock", ".tfplan", ".log"):
            assert mode(path) == expected, (path, oct(mode(path)))


# -- whole deploys on the emulator ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.terraform
@needs_terraform
def test_killed_deploy_then_same_deploy_again_is_refused_until_rolled_back(
    emulator: EmulatorProcess, tmp_path: Path
) -> None:
    control = EmulatorControl(emulator.endpoint)
    out = tmp_path / "out"
    out.mkdir()
    config = write_config(tmp_path, tf_vars='tables = [], queues = [], release = "${DB_PASSWORD}"')
    text = config.read_text().replace(
        "health_urls =", 'notify = { webhook_url = "${SLACK_WEBHOOK_URL}" }\nhealth_urls =', 1
    )
    config.write_text(text)
    secrets = {"DB_PASSWORD": "r-secret-" + uuid.uuid4().hex, "SLACK_WEBHOOK_URL": "http://h/x"}
    env = dict(os.environ, **emulator.attach_environment(), **secrets)
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--report-dir={out}"]
    command += ["-m", "deploy", "--env", ENV, f"--config={config}"]
    journal_path = out / FILE_NAME
    log = tmp_path / "deploy.out"
    with log.open("w") as handle:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=handle, stderr=handle, start_new_session=True
        )
        try:
            _wait_for(
                journal_path,
                lambda d: any(s.get("state") == "applied" for s in d.get("steps", [])),
                timeout=150,
            )
            os.killpg(process.pid, signal.SIGKILL)
        finally:
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    command_line = f"readiness rollback --journal {journal_path}"
    assert command_line in log.read_text(), log.read_text()[-3000:]  # said at the start
    # ... and in the NO-GO summary.md that stands after the kill
    assert command_line in (out / "summary.md").read_text()
    assert unrecovered_journal(out) == journal_path
    killed = journal_path.read_bytes()
    changed = live_state(control)
    assert changed["pi"] == (True, 7) and tf_resources(out) != []

    # The same deploy again, same folder: refused, NO-GO, the journal untouched.
    again = run_suite(
        ["-m", "deploy", "--env", ENV, f"--config={config}"], out, attach=emulator, env=secrets
    )
    assert again.returncode == 2
    assert "Traceback" not in again.stdout + again.stderr
    refusal = [p for p in again.verdict["problems"] if "needs a rollback first" in p]
    assert len(refusal) == 1 and command_line in refusal[0], again.verdict["problems"]
    assert str(journal_path) in refusal[0] and "--archive-journal" in refusal[0]
    assert command_line in again.stdout
    assert journal_path.read_bytes() == killed
    assert sorted(p.name for p in out.glob("deploy-journal*")) == [FILE_NAME, FILE_NAME + ".lock"]
    assert live_state(control) == changed

    # The rollback needs the variable its destroy uses, and no other.
    bare = {k: v for k, v in os.environ.items() if k not in secrets}
    first = subprocess.run(
        [sys.executable, "-m", "deploy_steps.cli", "rollback", f"--journal={journal_path}"],
        cwd=REPO,
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert first.returncode == 2, first.stdout + first.stderr
    assert (
        f"environments.{ENV}.deploy.terraform_vars.release: environment variable "
        "DB_PASSWORD is not set" in first.stderr
    )
    assert "SLACK_WEBHOOK_URL" not in first.stdout + first.stderr
    assert live_state(control)["pi"] == BEFORE["pi"] and tf_resources(out) != []
    assert unrecovered_journal(out) == journal_path

    second = subprocess.run(
        [sys.executable, "-m", "deploy_steps.cli", "rollback", f"--journal={journal_path}"],
        cwd=REPO,
        env=dict(bare, DB_PASSWORD=secrets["DB_PASSWORD"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert live_state(control) == BEFORE and tf_resources(out) == []
    assert unrecovered_journal(out) is None


@pytest.mark.slow
@pytest.mark.terraform
@needs_terraform
def test_sensitive_value_lands_nowhere_and_everything_is_private(
    emulator: EmulatorProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "db-" + uuid.uuid4().hex
    monkeypatch.setenv("DB_PASSWORD", secret)
    out = tmp_path / "out"
    config = write_config(
        tmp_path, tf_vars='tables = [], queues = [], db_password = "${DB_PASSWORD}"'
    )
    first = deploy(config, out, emulator)
    assert first.returncode == 0, first.stdout[-3000:]
    first_journal = (out / FILE_NAME).read_bytes()
    assert json.loads(first_journal)["terraform"]["sensitive_vars"] == ["db_password"]
    tfvars = json.loads((out / "terraform" / ENV / "readiness.tfvars.json").read_text())
    assert tfvars == {"tables": [], "queues": []}

    second = deploy(config, out, emulator)  # same folder: the clean journal is archived
    assert second.returncode == 0, second.stdout[-3000:]
    archived = [p for p in out.glob("deploy-journal.*.json")]
    assert len(archived) == 1 and archived[0].read_bytes() == first_journal
    assert json.loads((out / FILE_NAME).read_text())["previous_journal"] == str(archived[0])

    assert_nowhere(out, secret)
    assert secret not in first.stdout + second.stdout
    assert_private(out / "terraform")
    for path in [*out.glob("deploy-journal*"), out / "deploy.log"]:
        assert mode(path) == 0o600, (path, oct(mode(path)))
