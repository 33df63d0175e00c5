"""`readiness emulator --port N` and `python -m readiness.emulator serve --port N`
refuse a port that is out of range, negative or not a number: one line, a non-zero
exit, no traceback, and nothing served on some other port."""

from __future__ import annotations

import subprocess
import sys

import pytest

from readiness.emulator.__main__ import port_number

from .conftest import REPO

ENTRY_POINTS = {
    "readiness emulator": [sys.executable, "-m", "deploy_steps.cli", "emulator"],
    "python -m readiness.emulator serve": [sys.executable, "-m", "readiness.emulator", "serve"],
}
BAD_PORTS = ["99999", "65536", "-5", "abc", "1.5", ""]


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("port", BAD_PORTS)
def test_a_bad_port_is_refused_in_one_line(entry: str, port: str) -> None:
    try:
        done = subprocess.run(
            [*ENTRY_POINTS[entry], f"--port={port}"],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{entry} --port={port!r} served instead of refusing the port")
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0
    assert done.stdout == ""  # no "ready" line: nothing was served
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{entry}: --port: ")
    assert repr(port) in lines[0] or port in lines[0]
    assert "0 to 65535" in lines[0]


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_a_negative_port_as_a_separate_argument_is_refused(entry: str) -> None:
    done = subprocess.run(
        [*ENTRY_POINTS[entry], "--port", "-1"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"{entry}: --port: -1 is out of range (a port is a number from 0 to 65535)"
    )


def test_the_app_port_is_checked_too() -> None:
    done = subprocess.run(
        [*ENTRY_POINTS["python -m readiness.emulator serve"], "--app-port=70000"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "python -m readiness.emulator serve: --app-port: 70000 is out of range "
        "(a port is a number from 0 to 65535)"
    ]


@pytest.mark.parametrize(
    ("text", "port"), [("0", 0), ("5000", 5000), ("65535", 65535), (" 80 ", 80)]
)
def test_ports_in_range_are_accepted(text: str, port: int) -> None:
    assert port_number(text) == port


@pytest.mark.parametrize("text", [*BAD_PORTS, "0x50", "\uff18\uff10", "1e3", "5000000000000000"])
def test_anything_else_is_not_a_port(text: str) -> None:
    with pytest.raises(ValueError, match="0 to 65535"):
        port_number(text)
