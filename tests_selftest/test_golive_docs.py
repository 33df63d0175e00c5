"""The README and the runbook say what the code does: their examples parse, their
commands exist, and the workflow keeps the audit's exit code."""

from __future__ import annotations

import re
import shlex

import pytest

from deploy_steps.cli import build_parser
from readiness.config import parse_config
from reports.waivers import parse_waivers

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
RUNBOOK = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
WORKFLOW = (REPO / ".github" / "workflows" / "readiness.yml").read_text(encoding="utf-8")


def test_readme_toml_examples_are_valid() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README, re.S)
    waivers = [b for b in blocks if "[[waiver]]" in b]
    configs = [b for b in blocks if "[environments." in b]
    assert waivers and configs
    assert parse_waivers(waivers[0], "README waiver example")[0].owner
    config, used = parse_config(
        configs[0], "README config example", environ={"SLACK_WEBHOOK_URL": "https://h.test/x"}
    )
    env = config.environment(None)
    assert env.golive.audit_max_age_minutes == 60
    assert used == {"SLACK_WEBHOOK_URL": "https://h.test/x"}


def _commands(text: str) -> list[list[str]]:
    found = []
    for raw in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", "", raw.strip().split("#")[0]).strip()  # [optional]
        line = re.split(r"\s[>|]\s", line)[0]  # the shell's redirection is not ours
        if line.startswith("readiness ") and "..." not in line and line.isascii():
            found.append(shlex.split(line)[1:])
    return found


@pytest.mark.parametrize("doc", ["README.md", "docs/runbook.md"])
def test_documented_commands_parse(doc: str) -> None:
    commands = _commands(README if doc == "README.md" else RUNBOOK)
    assert commands
    parser = build_parser()
    for words in commands:
        argv = [a.replace("FILE", "j.json").replace("<stamp>", "s") for a in words]
        args, extra = parser.parse_known_args(argv)
        assert args.command in ("gate", "go-live", "rollback", "watch", "emulator", "policy"), argv
        if args.command != "gate":
            assert not extra, f"{doc}: {' '.join(argv)}: unknown {extra}"


def test_workflow_runs_the_audit_and_keeps_its_exit_code() -> None:
    assert "make audit" in WORKFLOW
    assert "out/readiness.html" in WORKFLOW and "GITHUB_STEP_SUMMARY" in WORKFLOW
    assert "code=$?" in WORKFLOW and "exit 2" in WORKFLOW and "exit 1" in WORKFLOW


def test_runbook_mirrors_the_decision_points() -> None:
    for point in (
        "Reconfigure credentials",
        "CONDITIONAL GO",
        "All validations pass?",
        "Rollback decision tree",
        "Emergency flow",
        "--accept-risks --accepted-by",
        "--resume",
        "out/incidents/",
    ):
        assert point in RUNBOOK, point
