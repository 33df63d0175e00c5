"""Malformed readiness.toml, waivers.toml and deploy journals: one clear message naming
the file and the place, and NO-GO (or exit 2 for a rollback); never any exception but the
loader's own error type, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy_steps.journal import Journal, JournalError
from deploy_steps.rollback_cli import rollback_command
from readiness.config import ConfigError, parse_config
from readiness.emulator import EmulatorProcess
from reports.waivers import WaiverFileError, parse_waivers

from .conftest import REPO, run_suite

REAL_CONFIG = (REPO / "readiness.toml").read_text(encoding="utf-8")
REAL_WAIVERS = """\
[[waiver]]
check = "sqs-dead-letter-queue"
resource = "us-east-1/prod-*"
reason = "the queue is drained by hand until the worker ships"
owner = "platform"
expires = 2099-01-31
ticket = "OPS-42"

[[waiver]]
check = "lambda-errors-alarm"
reason = "accepted for the launch week"
owner = "platform"
expires = 2099-02-28
"""

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Values that are wrong in interesting ways for some key or other.
ODD_VALUES = st.sampled_from(
    [
        "",
        '""',
        "0",
        "-1",
        "1e309",
        "nan",
        "inf",
        "true",
        "[]",
        "[1, 2]",
        '["us-east-1", "us-east-1"]',
        '["mars-north-1"]',
        "{}",
        '{ seed = "prod" }',
        '"${NOT_SET_ANYWHERE}"',
        '"12345678901"',
        "123456789012",
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        '"\\u0000"',
        '"' + "x" * 5000 + '"',
        "[[nested]]",
        '"arn:aws:iam::123:role/x"',
    ]
)
GARBAGE_LINES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "[environments]",
            "[environments.local]",
            "[[environments.local]]",
            "[environments.new]",
            "unknown_key = 1",
            "default_environment = 'nowhere'",
            "regions = []",
            "= 3",
            "[",
            '"""',
            "expires = 2020-13-45",
            "[[waiver]]",
            "waiver = 3",
            "check = ''",
            "reason = '   '",
            "resource = ''",
            "color = 'blue'",
            "expires = 1999-01-01T00:00:00",
        ]
    ),
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few lines deleted, re-valued, inserted or the whole cut short."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "revalue", "insert", "truncate", "dup"]))
        if operation == "delete":
            del lines[index]
        elif operation == "revalue" and "=" in lines[index]:
            key = lines[index].split("=", 1)[0]
            lines[index] = f"{key}= {draw(ODD_VALUES)}"
        elif operation == "insert":
            lines.insert(index, draw(GARBAGE_LINES))
        elif operation == "dup":
            lines.insert(index, lines[index])
        elif operation == "truncate":
            cut = draw(st.integers(0, len(lines[index])))
            lines = [*lines[:index], lines[index][:cut]]
    return "\n".join(lines) + "\n"


def assert_one_clear_message(message: str, source: str) -> None:
    assert message.startswith(f"{source}: "), message
    assert "\n" not in message.strip(), message
    assert "Traceback" not in message
    assert len(message) < 2000, message[:300]


@FUZZ
@given(text=mutated(REAL_CONFIG))
def test_mutated_config_loads_or_names_file_and_place(text: str) -> None:
    try:
        config, _ = parse_config(text, "readiness.toml", environ={})
    except ConfigError as exc:
        assert_one_clear_message(str(exc), "readiness.toml")
        return
    assert config.environments  # a valid file is a usable one


@FUZZ
@given(text=st.text(max_size=400))
def test_arbitrary_text_as_config_never_crashes(text: str) -> None:
    try:
        parse_config(text, "readiness.toml", environ={})
    except ConfigError as exc:
        assert_one_clear_message(str(exc), "readiness.toml")


@FUZZ
@given(text=mutated(REAL_WAIVERS))
def test_mutated_waivers_load_or_name_file_and_place(text: str) -> None:
    try:
        waivers = parse_waivers(text, "waivers.toml")
    except WaiverFileError as exc:
        assert_one_clear_message(str(exc), "waivers.toml")
        return
    for waiver in waivers:
        assert waiver.check.strip() and waiver.owner.strip() and waiver.reason.strip()
        # A plain date, or a date-time in UTC (a local or offset one is refused).
        assert not isinstance(waiver.expires, dt.datetime) or waiver.expires.utcoffset() == (
            dt.timedelta(0)
        )


@FUZZ
@given(text=st.text(max_size=400))
def test_arbitrary_text_as_waivers_never_crashes(text: str) -> None:
    try:
        parse_waivers(text, "waivers.toml")
    except WaiverFileError as exc:
        assert_one_clear_message(str(exc), "waivers.toml")


@pytest.mark.slow
def test_a_malformed_config_makes_the_run_no_go_with_its_message(tmp_path: Path) -> None:
    config = tmp_path / "readiness.toml"
    config.write_text(REAL_CONFIG.replace('regions = ["us-east-1", "us-west-2"]', "regions = 3", 1))
    (tmp_path / "out").mkdir()
    run = run_suite(["-m", "audit", f"--config={config}"], tmp_path / "out", timeout=120)
    assert run.returncode == 2
    assert run.verdict["verdict"] == "NO_GO"
    assert "Traceback" not in run.stdout + run.stderr
    assert "environments.local.regions" in run.stdout
    assert any("environments.local.regions" in p for p in run.verdict["problems"])


@pytest.mark.slow
def test_a_malformed_waiver_file_makes_the_run_no_go_with_its_message(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(REAL_WAIVERS.replace("expires = 2099-02-28", "expires = 'soon'"))
    (tmp_path / "out").mkdir()
    run = run_suite(
        ["-m", "audit", "--env", "local-empty", f"--waivers={waivers}"],
        tmp_path / "out",
        timeout=180,
    )
    assert run.returncode == 2
    assert run.verdict["verdict"] == "NO_GO"
    assert "Traceback" not in run.stdout + run.stderr
    assert any("waiver #2" in p and "expires" in p for p in run.verdict["problems"]), run.verdict[
        "problems"
    ]


# -- the deploy journal ------------------------------------------------------------------

JOURNAL_ODD_VALUES = st.one_of(
    st.sampled_from(
        [None, 0, -1, 7, 1.5, True, "", "x" * 5000, [], [1, "a"], {}, {"x": None}, "\u0000"]
    ),
    st.text(max_size=30),
)


def real_journal(endpoint: str) -> dict[str, Any]:
    """A journal as a failed deploy of `local` leaves it: one step of each kind."""
    return {
        "version": 1,
        "status": "failed",
        "started": "2026-11-27T05:00:00.000+00:00",
        "environment": "local",
        "account": "123456789012",
        "config_path": str(REPO / "readiness.toml"),
        "endpoint": endpoint,
        "emulated": True,
        "destroy_on_rollback": "created",
        "terraform": None,
        "steps": [
            {
                "seq": 1,
                "phase": "services",
                "kind": "performance_insights",
                "target": {"region": "us-east-1", "db_instance": "prod-db", "retention_days": 7},
                "before": {"enabled": False},
                "intended": {"enabled": True, "retention_days": 7},
                "after": {"enabled": True, "retention_days": 7},
                "state": "applied",
            },
            {
                "seq": 2,
                "phase": "services",
                "kind": "circuit_breaker",
                "target": {"region": "us-east-1", "cluster": "prod-cluster", "service": "api"},
                "before": {"enable": False, "rollback": False},
                "intended": {"enable": True, "rollback": True},
                "after": None,
                "state": "planned",
            },
            {
                "seq": 3,
                "phase": "services",
                "kind": "ttl",
                "target": {"region": "us-east-1", "table": "prod-sessions", "attribute": "exp"},
                "before": {"status": "DISABLED"},
                "intended": {"status": "ENABLED", "attribute": "exp"},
                "after": {"status": "ENABLED", "attribute": "exp"},
                "state": "applied",
            },
        ],
        "phases": [],
        "events": [],
    }


@st.composite
def mutated_journal(draw: st.DrawFn, endpoint: str) -> str:
    """The journal with a few values replaced or deleted (top level or in a step), or
    its JSON text cut short."""
    data = real_journal(endpoint)
    for _ in range(draw(st.integers(1, 4))):
        holder: Any = data
        if draw(st.booleans()) and isinstance(data.get("steps"), list) and data["steps"]:
            step = draw(st.sampled_from(data["steps"]))
            holder = step
            if isinstance(step, dict) and draw(st.booleans()):
                for key in ("target", "before"):
                    if isinstance(step.get(key), dict):
                        holder = step[key]
                        break
        if not isinstance(holder, dict) or not holder:
            continue
        key = draw(st.sampled_from(sorted(holder)))
        if draw(st.booleans()):
            del holder[key]
        else:
            holder[key] = draw(JOURNAL_ODD_VALUES)
    text = json.dumps(data, indent=1)
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@pytest.fixture(scope="module")
def empty_emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess.start("empty") as emulator:
        yield emulator


def test_journal_fuzz_reaches_the_rollback(
    empty_emulator: EmulatorProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The undamaged journal is a usable one, so the fuzz below exercises the rollback
    itself, not only the loader: each step is read on the emulator (whose stack is empty,
    so each is a problem named by its resource)."""
    path = tmp_path / "deploy-journal.json"
    path.write_text(json.dumps(real_journal(empty_emulator.endpoint)), encoding="utf-8")
    assert Journal.load(path).status == "failed"
    assert rollback_command(path, dry_run=True) == 2
    err = capsys.readouterr().err
    for label in ("rds:us-east-1/prod-db", "ecs:us-east-1/prod-cluster/api", "prod-sessions"):
        assert label in err, err


@FUZZ
@given(data=st.data())
def test_mutated_journal_rolls_back_or_says_why(
    data: st.DataObject,
    empty_emulator: EmulatorProcess,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`readiness rollback --journal --dry-run` on a damaged journal: exit 0 or 2, every
    complaint one line of its own, never a traceback, and the journal untouched."""
    text = data.draw(mutated_journal(empty_emulator.endpoint))
    path = tmp_path_factory.mktemp("journal") / "deploy-journal.json"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    try:
        Journal.load(path)
    except JournalError as exc:
        assert_one_clear_message(str(exc), str(path))
    code = rollback_command(path, dry_run=True)
    out, err = capsys.readouterr()
    assert code in (0, 2)
    assert "Traceback" not in out + err
    for line in err.strip().splitlines():
        assert line.startswith("readiness rollback: "), err
    assert path.read_text(encoding="utf-8") == text  # a dry run writes nothing
