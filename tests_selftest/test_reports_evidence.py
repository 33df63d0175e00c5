"""Evidence in every output: the caller, the tool's version, the checks' commit, the
configuration's digest and where the data came from; a replay and a custom endpoint
labelled as such in verdict.json, summary.md, readiness.html, junit.xml and the terminal."""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import boto3
import pytest

from readiness import evidence as core_evidence
from readiness.config import load_config, parse_config
from readiness.emulator import EmulatorProcess
from reports import evidence as report_evidence

from .conftest import REPO, SuiteRun, run_suite

PHASE = ["-m", "preflight"]
DB_PASSWORD_VAR = "READINESS_EVIDENCE_DB_PASSWORD"
SECRET_ONE = "evidence-secret-7q2w9e"
SECRET_TWO = "evidence-secret-4r8t1y"
DEPLOY_TABLE = "[environments.local.deploy]\n"


def texts(run: SuiteRun) -> dict[str, str]:
    """Every human output of a run, the HTML unescaped."""
    return {
        "summary.md": (run.out / "summary.md").read_text(),
        "readiness.html": html.unescape((run.out / "readiness.html").read_text()),
        "junit.xml": (run.out / "junit.xml").read_text(),
        "terminal": run.stdout,
    }


def header(run: SuiteRun) -> str:
    """What pytest printed before collecting."""
    return re.split(r"\ncollect(?:ed \d+ items|ing)", run.stdout, maxsplit=1)[0]


def suite_properties(run: SuiteRun) -> dict[str, str]:
    suite = ET.parse(run.out / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    props = suite.find("properties")
    assert props is not None
    return {str(p.get("name")): str(p.get("value")) for p in props.iter("property")}


def git(*args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(REPO / "checks"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout if done.returncode == 0 else None


def config_with_secret(tmp_path: Path, name: str, extra: str = "") -> Path:
    """The project's readiness.toml with a ${VAR} terraform variable in `local`, plus
    whatever `extra` adds to that environment."""
    text = (REPO / "readiness.toml").read_text()
    assert text.count(DEPLOY_TABLE) == 1
    secret = f'terraform_vars = {{ db_password = "${{{DB_PASSWORD_VAR}}}" }}\n'
    text = text.replace(DEPLOY_TABLE, DEPLOY_TABLE + secret)
    path = tmp_path / name
    path.write_text(text + extra)
    return path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, demo_emulator: EmulatorProcess) -> SuiteRun:
    run = run_suite(PHASE, tmp_path_factory.mktemp("live"), attach=demo_emulator)
    assert run.returncode == 0, run.stdout[-3000:]
    return run


# -- a live run ---------------------------------------------------------------------


@pytest.mark.slow
def test_a_live_run_has_every_piece_of_evidence_right(
    live: SuiteRun, demo_emulator: EmulatorProcess
) -> None:
    dirty_before = git("status", "--porcelain", "--", ".")
    found = live.verdict["evidence"]
    dirty_after = git("status", "--porcelain", "--", ".")
    assert set(found) == set(report_evidence.KEYS)
    sts = boto3.client(
        "sts",
        endpoint_url=demo_emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert found["caller_arn"] == sts.get_caller_identity()["Arn"]
    assert found["caller_arn"].startswith("arn:aws:sts::123456789012:")
    assert found["tool_version"] == metadata.version("readiness")
    assert found["target_kind"] == "embedded emulator"
    assert found["data_source"] == "live" and found["snapshot_path"] is None
    collected = dt.datetime.fromisoformat(found["collected_at"])
    started = dt.datetime.fromisoformat(live.verdict["started_at"])
    assert abs((collected - started).total_seconds()) < 60
    assert found["collected_at"] == live.json("inventory.json")["taken_at"]
    assert re.fullmatch(r"[0-9a-f]{64}", found["config_sha256"])
    head = git("rev-parse", "HEAD")
    if head is None:  # not a git checkout here: absent, and the run still went through
        assert found["checks_commit"] is None and found["checks_dirty"] is None
    else:
        assert found["checks_commit"] == head.strip()
        if dirty_before is not None and (dirty_before == "") == (dirty_after == ""):
            assert found["checks_dirty"] is (dirty_before.strip() != "")
    outputs = texts(live)
    for name, text in outputs.items():
        assert found["caller_arn"] in text, name
        assert f"live, read at {found['collected_at']}" in text, name
        assert "SNAPSHOT REPLAY" not in text, name
    for name in ("summary.md", "readiness.html", "junit.xml"):
        assert found["config_sha256"] in outputs[name], name
        assert f"readiness {found['tool_version']}" in outputs[name], name
    assert f"evidence: live, read at {found['collected_at']}" in header(live)
    properties = suite_properties(live)
    assert properties["caller_arn"] == found["caller_arn"]
    assert properties["config_sha256"] == found["config_sha256"]
    assert properties["data_source"] == "live"


@pytest.mark.slow
def test_the_config_digest_is_stable_follows_a_threshold_and_holds_no_secret(
    tmp_path: Path, demo_emulator: EmulatorProcess
) -> None:
    plain = config_with_secret(tmp_path, "plain.toml")
    stricter = config_with_secret(
        tmp_path, "stricter.toml", "\n[environments.local.thresholds]\nbackup_retention_days = 8\n"
    )

    def digest(config: Path, secret: str, out: str) -> str:
        run = run_suite(
            [*PHASE, f"--config={config}"],
            tmp_path / out,
            attach=demo_emulator,
            env={DB_PASSWORD_VAR: secret},
        )
        assert run.returncode == 0, run.stdout[-3000:]
        for name, text in {**texts(run), "verdict.json": str(run.verdict)}.items():
            assert secret not in text, name
        value = run.verdict["evidence"]["config_sha256"]
        assert isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value)
        return value

    first = digest(plain, SECRET_ONE, "first")
    again = digest(plain, SECRET_TWO, "again")
    changed = digest(stricter, SECRET_ONE, "stricter")
    assert first == again, "the digest follows a secret's value or is not stable"
    assert changed != first, "a changed threshold must change the digest"
    loaded, _ = load_config(plain, environ={DB_PASSWORD_VAR: SECRET_ONE})
    assert core_evidence.config_sha256(loaded.environment("local")) == first


# -- a replay -----------------------------------------------------------------------


@pytest.mark.slow
def test_a_snapshot_replay_is_labelled_in_every_output(live: SuiteRun, tmp_path: Path) -> None:
    snapshot = (live.out / "inventory.json").resolve()
    taken_at = live.json("inventory.json")["taken_at"]
    replay = run_suite([*PHASE, f"--snapshot={snapshot}"], tmp_path / "replay")
    assert replay.returncode == 0, replay.stdout[-3000:]
    found = replay.verdict["evidence"]
    assert found["data_source"] == "snapshot"
    assert found["snapshot_path"] == str(snapshot)
    assert found["collected_at"] == taken_at
    assert found["caller_arn"] == live.verdict["evidence"]["caller_arn"]
    label = f"SNAPSHOT REPLAY of {snapshot}, collected {taken_at}"
    for name, text in texts(replay).items():
        assert label in text, name
        assert "live, read at" not in text, name
    assert f"evidence: {label}" in header(replay)
    block = replay.stdout[replay.stdout.index("READINESS VERDICT") :]
    assert f"data      {label}" in block
    properties = suite_properties(replay)
    assert properties["data"] == label
    assert properties["data_source"] == "snapshot"
    assert properties["snapshot_path"] == str(snapshot)
    assert properties["collected_at"] == taken_at
    summary = (replay.out / "summary.md").read_text()
    assert summary.index(label) < summary.index("| passed |"), "not near the top"


# -- a custom endpoint --------------------------------------------------------------


@pytest.mark.slow
def test_an_endpoint_on_loopback_is_labelled_custom_endpoint(
    tmp_path: Path, demo_emulator: EmulatorProcess
) -> None:
    assert demo_emulator.endpoint.startswith("http://127.0.0.1:")
    config = tmp_path / "readiness.toml"
    config.write_text(
        'default_environment = "lab"\n\n[environments.lab]\n'
        'account_id = "123456789012"\nregions = ["us-east-1"]\n'
        f'endpoint_url = "{demo_emulator.endpoint}"\n'
    )
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    run = run_suite(
        [*PHASE, "--env", "lab", f"--config={config}"], tmp_path / "out", env=credentials
    )
    assert "Traceback" not in run.stdout + run.stderr
    found = run.verdict["evidence"]
    assert found["target_kind"] == "custom endpoint", run.stdout[-3000:]
    assert found["data_source"] == "live"
    assert found["caller_arn"] == "arn:aws:sts::123456789012:user/moto", run.stdout[-3000:]
    for name, text in texts(run).items():
        assert "custom endpoint" in text.lower(), name
        assert "real AWS account" not in text, name
        assert "real AWS)" not in text, name
    assert suite_properties(run)["target_kind"] == "custom endpoint"
    assert "target: CUSTOM ENDPOINT" in run.stdout


# -- the parts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "kind"),
    [
        ("http://127.0.0.1:4566", "custom endpoint"),
        ("http://127.8.9.10", "custom endpoint"),
        ("http://[::1]:4566", "custom endpoint"),
        ("http://10.1.2.3:9000", "custom endpoint"),
        ("https://172.20.0.5", "custom endpoint"),
        ("http://192.168.1.20:4566", "custom endpoint"),
        ("http://localhost:4566", "custom endpoint"),
        ("http://LocalStack.LOCAL:4566", "custom endpoint"),
        ("http://[::ffff:127.0.0.1]:4566", "custom endpoint"),
        ("https://172.32.0.5", "real AWS account"),
        ("https://sts.us-east-1.amazonaws.com", "real AWS account"),
        ("https://localhost.example.com", "real AWS account"),
        ("not a url at all", "real AWS account"),
        (None, "real AWS account"),
    ],
)
def test_target_kind_by_endpoint(endpoint: str | None, kind: str) -> None:
    assert core_evidence.target_kind(endpoint, emulated=False) == kind
    assert core_evidence.target_kind(endpoint, emulated=True) == "embedded emulator"


ENVIRONMENT = """
default_environment = "prod"
[environments.prod]
account_id = "210987654321"
regions = ["eu-west-1"]
{extra}
health_urls = ["https://status.example.com/${{STATUS_TOKEN}}"]
notify = {{ webhook_url = "https://hooks.example.com/T0/B0/abc123xyz" }}
[environments.prod.thresholds]
log_retention_days = {days}
[environments.prod.deploy]
terraform_vars = {{ db_password = "${{DB_PASSWORD}}", size = 3, api_key = "k-1" }}
sensitive_vars = ["api_key"]
"""


def digest_of(text: str, environ: dict[str, str]) -> str:
    config, _ = parse_config(text, "readiness.toml", environ)
    return core_evidence.config_sha256(config.environment("prod"))


def test_the_config_digest_masks_every_secret_and_follows_every_setting() -> None:
    secrets = {"STATUS_TOKEN": "tok-aaaa1111", "DB_PASSWORD": "pw-bbbb2222"}
    other = {"STATUS_TOKEN": "tok-cccc3333", "DB_PASSWORD": "pw-dddd4444"}
    base = digest_of(ENVIRONMENT.format(days=30, extra=""), secrets)
    assert digest_of(ENVIRONMENT.format(days=30, extra=""), other) == base
    # The model, not the file: a default written out changes nothing.
    assert digest_of(ENVIRONMENT.format(days=30, extra="max_attempts = 5"), secrets) == base
    assert digest_of(ENVIRONMENT.format(days=31, extra=""), secrets) != base
    config, _ = parse_config(ENVIRONMENT.format(days=30, extra=""), "readiness.toml", secrets)
    shown = str(config.environment("prod").without_secrets())
    for value in (*secrets.values(), "k-1", "abc123xyz"):
        assert value not in shown
    assert "'size': 3" in shown


def test_the_reports_keep_only_documented_evidence_of_the_right_types() -> None:
    reported = {
        "caller_arn": 42,
        "checks_commit": None,
        "checks_dirty": True,
        "config_sha256": "ab" * 32,
        "data_source": "guessed",
        "collected_at": "",
        "extra": "dropped",
    }
    gathered = report_evidence.gather(reported, {"emulated": False})
    assert set(gathered) == set(report_evidence.KEYS)
    assert gathered["caller_arn"] is None and gathered["checks_dirty"] is None
    assert gathered["data_source"] is None and gathered["collected_at"] is None
    assert gathered["config_sha256"] == "ab" * 32
    assert gathered["target_kind"] == "real AWS account"
    assert report_evidence.source_text(gathered) == "no inventory was read"
    replay = report_evidence.gather(
        {"data_source": "snapshot", "snapshot_path": "/s/inventory.json"}, {"emulated": True}
    )
    assert report_evidence.replay_label(replay) == (
        "SNAPSHOT REPLAY of /s/inventory.json, collected at an unknown time"
    )
    assert replay["target_kind"] == "embedded emulator"


def test_no_checkout_outside_a_git_tree(tmp_path: Path) -> None:
    assert core_evidence.checkout_of(tmp_path / "missing") is None
    assert core_evidence.checkout_of(tmp_path) is None


def test_every_evidence_key_is_documented() -> None:
    text = (REPO / "docs" / "verdict-json.md").read_text()
    body = text.split("## `evidence`", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"^\| `([a-z0-9_]+)` \|", body, re.MULTILINE)) == set(
        report_evidence.KEYS
    )
    top = text.split("## Top-level keys of a finished run", 1)[1].split("\n## ", 1)[0]
    assert "| `evidence` | object |" in top


def test_an_unknown_target_is_not_called_a_real_account() -> None:
    assert report_evidence.target_kind({}) is None
    assert report_evidence.target_kind({"environment": "x", "kind": None}) is None
    assert report_evidence.target_kind({"environment": "x", "emulated": True}) == (
        "embedded emulator"
    )
    unknown = report_evidence.gather({}, {})
    assert dict(report_evidence.facts(unknown))["target"] == "unknown"
