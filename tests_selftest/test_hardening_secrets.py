"""Secrets planted in the environment, the config, the API's answers and the errors of a
full audit run appear in none of its outputs: terminal, HTML (extras decoded), JSON,
JUnit, Markdown, the API-call ledger and the inventory."""

from __future__ import annotations

import base64
import binascii
import html
import random
import re
import string
from pathlib import Path

import pytest

from bench.proxy import Faults, Proxy
from readiness.emulator import EmulatorProcess
from readiness.emulator.control import EmulatorControl
from readiness.emulator.seeds import TAGS

from .conftest import REPO, run_suite

pytestmark = pytest.mark.slow

_BASE64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


def secret_key(rng: random.Random) -> str:
    """Shaped like an AWS secret access key: 40 characters, both cases, digits, a slash."""
    alphabet = string.ascii_letters + string.digits
    body = [rng.choice(alphabet) for _ in range(36)]
    return "".join(body[:9]) + "/Q7k" + "".join(body[9:])


def token(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))


def readable_outputs(out: Path, terminal: str) -> dict[str, str]:
    """Every output file as text, with base64 blobs in the HTML decoded beside it."""
    texts = {"terminal": terminal}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        texts[str(path.relative_to(out))] = text
        if path.suffix == ".html":
            texts[f"{path.name} (unescaped)"] = html.unescape(text)
            decoded = []
            for blob in _BASE64.findall(text):
                try:
                    decoded.append(base64.b64decode(blob + "=" * (-len(blob) % 4)).decode())
                except (binascii.Error, UnicodeDecodeError):
                    continue
            texts[f"{path.name} (extras decoded)"] = "\n".join(decoded)
    return texts


@pytest.fixture(scope="module")
def leaks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Run the planted audit once; for each output, which planted secrets it shows."""
    tmp_path = tmp_path_factory.mktemp("secrets")
    rng = random.Random(20261127)
    planted = {
        "environment AWS_SECRET_ACCESS_KEY": secret_key(rng),
        "environment DATABASE_PASSWORD": token(rng, "pw-"),
        "config ${VAR} (on_call)": token(rng, "oncall-"),
        "config URL credentials (runbook_url)": token(rng, "url-"),
        "config webhook_url": token(rng, "hook-"),
        "API answer (SQS tag value)": secret_key(rng),
        "API answer (SQS tag api_key)": token(rng, "tag-"),
        "exception (error message)": secret_key(rng),
    }
    values = list(planted.values())
    config_text = (REPO / "readiness.toml").read_text(encoding="utf-8")
    block = "[environments.local]\n"
    hook = f"https://hooks.slack.com/services/T0/B0/{values[4]}"
    config_text = config_text.replace(block, f'{block}notify = {{ webhook_url = "{hook}" }}\n', 1)
    config_text = config_text.replace(
        'on_call = "#readiness-ops"', 'on_call = "#readiness-ops ${READINESS_ONCALL_TOKEN}"', 1
    )
    config_text = config_text.replace(
        'runbook_url = "docs/runbook.md"',
        f'runbook_url = "https://ops:{values[3]}@wiki.example.com/runbook"',
        1,
    )
    config = tmp_path / "readiness.toml"
    config.write_text(config_text)
    out = tmp_path / "out"
    out.mkdir()
    env = {
        "AWS_SECRET_ACCESS_KEY": values[0],
        "DATABASE_PASSWORD": values[1],
        "READINESS_ONCALL_TOKEN": values[2],
    }
    with EmulatorProcess.start("demo") as emulator:
        sqs = EmulatorControl(emulator.endpoint).client("sqs")
        sqs.create_queue(
            QueueName="prod-planted",
            tags={**TAGS, "Note": values[5], "api_key": values[6]},
        )
        faults = Faults(throttle=1.0, match="DescribeAlarms", message=f"denied for {values[7]}")
        with Proxy(emulator.endpoint, faults=faults) as proxy:
            attach = dict(emulator.attach_environment(), READINESS_EMULATOR_ENDPOINT=proxy.url)
            run = run_suite(
                ["-m", "audit", "--env", "local", f"--config={config}"],
                out,
                env={**env, **attach},
                timeout=240,
            )
    assert proxy.stats["throttle"] > 0
    assert "Traceback" not in run.stdout + run.stderr
    assert run.verdict["complete"] is True
    outputs = readable_outputs(out, run.stdout + run.stderr)
    for name in ("verdict.json", "junit.xml", "summary.md", "readiness.html", "api-calls.json"):
        assert name in outputs, sorted(outputs)
    # The planted places did reach the run: the queue was collected, the error was seen.
    assert "prod-planted" in outputs["inventory.json"]
    assert "DescribeAlarms" in outputs["api-calls.json"]
    return {
        where: [what for what, value in planted.items() if value in text]
        for where, text in outputs.items()
    }


def test_planted_secrets_appear_in_no_report_or_terminal(leaks: dict[str, list[str]]) -> None:
    found = {where: what for where, what in leaks.items() if what and where != "inventory.json"}
    assert found == {}


def test_planted_secrets_appear_not_in_the_inventory(leaks: dict[str, list[str]]) -> None:
    assert leaks["inventory.json"] == []
