"""Malformed readiness.toml and waivers.toml: one clear message naming the file and the
place, and NO-GO; never any exception but the loader's own error type."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness.config import ConfigError, parse_config
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
        assert isinstance(waiver.expires, dt.date) and not isinstance(waiver.expires, dt.datetime)


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
