"""`pytest -m audit` on the embedded demo environments: the banner and the four files."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from deploy_steps.gate import judge

from .conftest import REPO, run_suite

pytestmark = [pytest.mark.slow]
FILES = ("readiness.html", "verdict.json", "junit.xml", "summary.md")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {env: tmp_path_factory.mktemp(env) for env in ("local", "local-risky")}


def test_audit_on_the_demo_prints_the_banner_and_writes_the_four_files(
    folders: dict[str, Path],
) -> None:
    out = folders["local"]
    run = run_suite(["-m", "audit"], out, env={"READINESS_RUN_ID": "demo-audit-1"})
    assert run.returncode == 0, run.stdout[-4000:]
    assert re.search(r"=+ READINESS VERDICT: GO \(exit 0\) =+", run.stdout)
    assert "LOCAL EMULATOR" in run.stdout
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    verdict = run.verdict
    assert verdict["complete"] and verdict["verdict"] == "GO" and verdict["exit_code"] == 0
    assert verdict["environment"] == "local" and verdict["emulated"] is True
    assert verdict["counts"]["total"] > 20 and verdict["counts"]["passed"] > 0
    # The committed waivers.toml row is for another environment: nothing stale here.
    assert verdict["waivers"] == []
    assert judge(run.returncode, out / "verdict.json", "demo-audit-1").exit_code == 0
    page = (out / "readiness.html").read_text()
    assert "GO &nbsp;·&nbsp; exit 0" in page and "LOCAL EMULATOR RUN" in page
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", "0")) == verdict["counts"]["total"]
    assert (out / "summary.md").read_text().startswith("## 🟢 Readiness: GO (exit 0)")


def test_the_committed_waiver_row_shows_as_an_accepted_risk_on_the_risky_demo(
    folders: dict[str, Path],
) -> None:
    out = folders["local-risky"]
    committed = (REPO / "waivers.toml").read_text()
    assert 'environments = ["staging"]' in committed
    rows = out.parent / "waivers-local-risky.toml"
    rows.write_text(committed.replace('["staging"]', '["local-risky"]'))
    run = run_suite(["-m", "audit", "--env", "local-risky", f"--waivers={rows}"], out)
    assert run.returncode == 1, run.stdout[-4000:]
    verdict = run.verdict
    assert verdict["verdict"] == "CONDITIONAL_GO"
    [row] = verdict["waivers"]
    assert row["state"] == "applied" and row["covered"] == [
        "rds-performance-insights [us-east-1/prod-db]"
    ]
    assert "accepted risks (waived)" in run.stdout
    assert "Accepted risks (1)" in (out / "readiness.html").read_text()
