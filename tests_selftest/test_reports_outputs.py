"""The reports of one run: readiness.html, verdict.json (and its documented schema),
junit.xml, summary.md and the terminal block; and no secret in any of them."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from reports.summary import placeholder

from .conftest import REPO, write_catalogue

# Within the waiver expiry cap (365 days by default), whatever day the tests run.
IN_CAP = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=200)).isoformat()

INI = "[pytest]\nreadiness_gate = true\n"
CONFTEST = """
pytest_plugins = ["reports.plugin"]


def pytest_readiness_target(config):
    return {
        "environment": "staging-eu",
        "account": "210987654321",
        "regions": ["eu-west-1", "eu-central-1"],
        "endpoint": ENDPOINT,
        "emulated": True,
        "seed": "demo",
    }


def pytest_readiness_secrets(config):
    return SECRETS
"""
CHECKS = """
import pytest
from pytest_html import extras as html_extras

pytestmark = [pytest.mark.audit]
CHART = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="20" id="latency-chart">'
    '<rect width="30" height="20" fill="#1e7e34"/></svg>'
)


@pytest.mark.critical
@pytest.mark.check(id="waf-attached", title="WAF on public endpoints", category="security",
                   remediation="Attach the web ACL to the load balancer.")
@pytest.mark.parametrize("resource", ["eu-west-1/public-alb", "eu-west-1/internal-alb"])
def test_waf(resource):
    assert resource != "eu-west-1/public-alb", f"{resource} has no web ACL"


@pytest.mark.warning
@pytest.mark.check(id="sqs-dlq", title="Queues have a DLQ", category="infrastructure",
                   remediation="Add a redrive policy.")
def test_dlq():
    assert False, "eu-west-1/orders has no dead-letter queue"


@pytest.mark.warning
@pytest.mark.check(id="cost-budget", title="A budget exists", category="cost",
                   remediation="Create a budget.")
def test_budget():
    pytest.skip("not-evaluated: budgets:DescribeBudgets AccessDenied")


@pytest.mark.critical
@pytest.mark.check(id="latency-p99", title="p99 latency in bounds", category="monitoring",
                   remediation="Look at the slow endpoints.")
def test_latency(extras):
    extras.append(html_extras.html(CHART))
"""
WAIVERS = f"""
[[waiver]]
check = "sqs-dlq"
reason = "orders is replayed from the source"
owner = "payments-team"
expires = {IN_CAP}

[[waiver]]
check = "waf-attached"
resource = "eu-west-1/other-*"
reason = "old row"
owner = "edge-team"
expires = {IN_CAP}

[[waiver]]
check = "waf-attached"
resource = "eu-west-1/public-alb"
reason = "was accepted last year"
owner = "edge-team"
expires = 2001-01-01
"""


def make_suite(pytester: pytest.Pytester, endpoint: str, secrets: list[str]) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(f"ENDPOINT = {endpoint!r}\nSECRETS = {secrets!r}\n" + CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)
    (pytester.path / "waivers.toml").write_text(WAIVERS)


def json_blob(page: str) -> dict[str, Any]:
    found = re.search(r'data-jsonblob="([^"]*)"', page)
    assert found, "pytest-html's data blob is missing"
    return dict(json.loads(html.unescape(found.group(1))))


@pytest.fixture
def report_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.RunResult:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    make_suite(pytester, "http://127.0.0.1:4566", [])
    write_catalogue(pytester.path)
    return pytester.runpytest_inprocess("-p", "no:randomly")


def test_html_report_shows_the_verdict_target_failures_and_waivers(
    pytester: pytest.Pytester, report_run: pytest.RunResult
) -> None:
    assert report_run.ret == 2
    page = (pytester.path / "out" / "readiness.html").read_text()
    # Self-contained: no stylesheet or script fetched from elsewhere, no assets folder.
    assert not re.search(r'<link[^>]+href="(?!data:)', page)
    assert not re.search(r'<script[^>]+src="(?!data:)', page)
    assert not (pytester.path / "out" / "assets").exists()
    # The banner, in NO-GO red.
    assert re.search(r'class="rd-banner" style="color:#b00020;background:#fdecea', page)
    assert "NO-GO &nbsp;·&nbsp; exit 2" in page
    # The target, labelled as the local emulator.
    for text in ("staging-eu", "210987654321", "eu-west-1, eu-central-1", "127.0.0.1:4566"):
        assert text in page
    assert "LOCAL EMULATOR RUN" in page
    # Counts by severity and by category.
    assert "<h2>By severity</h2>" in page and "<h2>By category</h2>" in page
    for category in ("security", "infrastructure", "cost", "monitoring"):
        assert f"<td>{category}</td>" in page
    # Every failure with its resource, message and remediation.
    assert "eu-west-1/public-alb" in page and "has no web ACL" in page
    assert "Attach the web ACL to the load balancer." in page
    assert "budgets:DescribeBudgets AccessDenied" in page
    # Accepted risks with owner and days to expiry; stale and expired rows.
    accepted = page.split("Accepted risks (1)")[1].split("</table>")[0]
    assert "sqs-dlq" in accepted and "payments-team" in accepted
    assert re.search(r"<td>(199|200)</td>", accepted), "days to expiry"
    expired = page.split("Expired waivers (ignored)")[1].split("</table>")[0]
    assert "eu-west-1/public-alb" in expired and "2001-01-01" in expired
    stale = page.split("Stale waivers (cover no failure)")[1].split("</table>")[0]
    assert "eu-west-1/other-*" in stale
    # Run time.
    assert re.search(r"ran \d+\.\d s", page)
    # An HTML extra (an inline SVG chart) reaches the report whole.
    blob = json_blob(page)
    contents = [
        extra["content"]
        for runs in blob["tests"].values()
        for test in runs
        for extra in test.get("extras", [])
    ]
    assert any('id="latency-chart"' in c for c in contents)


def test_verdict_json_junit_markdown_and_terminal(
    pytester: pytest.Pytester, report_run: pytest.RunResult
) -> None:
    out = pytester.path / "out"
    verdict = json.loads((out / "verdict.json").read_text())
    assert verdict["verdict"] == "NO_GO" and verdict["exit_code"] == 2 and verdict["complete"]
    assert verdict["environment"] == "staging-eu" and verdict["emulated"] is True
    assert verdict["counts"] == {
        "passed": 2,
        "failed": 1,
        "error": 0,
        "not-evaluated": 1,
        "not-applicable": 0,
        "waived": 1,
        "total": 5,
    }
    waived = next(r for r in verdict["results"] if r["outcome"] == "waived")
    assert waived["check_id"] == "sqs-dlq" and waived["waiver"]["owner"] == "payments-team"
    assert not list(out.glob(".verdict.json.*")), "a temporary file was left behind"

    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "5" and suite.get("failures") == "2"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "NO-GO"

    summary = (out / "summary.md").read_text()
    assert summary.startswith("## 🔴 Readiness: NO-GO (exit 2)")
    assert "Local emulator run" in summary and "payments-team" in summary

    terminal = report_run.stdout.str()
    block = terminal[terminal.index("READINESS VERDICT: NO-GO (exit 2)") :]
    assert "waf-attached [eu-west-1/public-alb]" in block
    assert "fix: Attach the web ACL" in block
    assert "waiver    expired: waf-attached" in block


def _documented(section: str) -> set[str]:
    text = (REPO / "docs" / "verdict-json.md").read_text()
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", body, re.MULTILINE))


def test_the_documented_schema_matches_what_is_written(
    pytester: pytest.Pytester, report_run: pytest.RunResult
) -> None:
    verdict = json.loads((pytester.path / "out" / "verdict.json").read_text())
    assert _documented("Top-level keys of a finished run") == set(verdict)
    result_keys: set[str] = set().union(*(set(r) for r in verdict["results"]))
    assert _documented("`results[]`") == result_keys
    assert _documented("`waivers[]`") == set(verdict["waivers"][0])
    started = placeholder("x", verdict_started(verdict), "audit")
    assert _documented("Placeholder keys") == set(started)


def verdict_started(verdict: dict[str, Any]) -> Any:
    import datetime as dt

    return dt.datetime.fromisoformat(verdict["started_at"])


# -- no secret in any output --------------------------------------------------------

ACCESS_KEY = "AKIAZ7XQ3MPLANTED0KY"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiPLANTEDxKEY12"
SESSION_TOKEN = "FwoGZXIvYXdzEPLANTED//////////wEaDHsessiontokenvalue0123456789abcdefABCDEF"
URL_PASSWORD = "Pa55w0rdInUrl"
NAMED_SECRET = "tok-live-9c8b7a6d5e4f"
CONFIG_SECRET = "cfg-planted-3e4r5t6y"
PLANTED = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, URL_PASSWORD, NAMED_SECRET, CONFIG_SECRET)
LEAKY = f'''
import json
import pytest
from pytest_html import extras as html_extras

pytestmark = [pytest.mark.audit, pytest.mark.critical]
ALL = {list(PLANTED)!r}
URL = "postgres://admin:{URL_PASSWORD}@db.internal:5432/app"


@pytest.mark.check(id="leak-assert", title="Leaks in an assertion", category="security",
                   remediation="Never print {CONFIG_SECRET}")
def test_assertion():
    print("stdout:", *ALL, URL)
    assert False, "failed with " + " ".join(ALL) + " " + URL


@pytest.mark.check(id="leak-extras", title="Leaks in extras", category="security")
def test_extras(extras, capsys):
    import sys
    print("captured", *ALL, file=sys.stderr)
    extras.append(html_extras.html("<p>" + " ".join(ALL) + "</p>"))
    extras.append(html_extras.text(" ".join(ALL) + " " + URL))
    extras.append(html_extras.json({{"token": "{NAMED_SECRET}", "all": ALL}}))
    extras.append(html_extras.svg(__import__("base64").b64encode(
        ("<svg><text>" + " ".join(ALL) + "</text></svg>").encode()).decode()))
    raise RuntimeError("error with " + "|".join(ALL))
'''


def _decoded_payloads(page: str) -> list[str]:
    """Every base64 payload of a data: URI in the page, decoded."""
    out = []
    text = html.unescape(page)
    for match in re.finditer(r"data:[\w/+.-]+(?:;charset=[\w-]+)?;base64,([A-Za-z0-9+/=]+)", text):
        try:
            out.append(base64.b64decode(match.group(1)).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    return out


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["alone", "xdist"])
def test_no_secret_reaches_any_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("PAYMENTS_API_TOKEN", NAMED_SECRET)
    make_suite(pytester, f"https://svc:{URL_PASSWORD}@api.internal:8443", [CONFIG_SECRET])
    pytester.makepyfile(test_checks=LEAKY)
    write_catalogue(pytester.path)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-rA", *workers)
    assert result.ret == 2
    out = pytester.path / "out"
    page = (out / "readiness.html").read_text()
    texts = {
        "terminal": result.stdout.str() + result.stderr.str(),
        "readiness.html": page + html.unescape(page) + "\n".join(_decoded_payloads(page)),
        "verdict.json": (out / "verdict.json").read_text(),
        "junit.xml": (out / "junit.xml").read_text(),
        "summary.md": (out / "summary.md").read_text(),
    }
    assert len(_decoded_payloads(page)) >= 3, "the extras were not found, so not checked"
    assert "[REDACTED]" in texts["readiness.html"] and "[REDACTED]" in texts["terminal"]
    leaks = [(name, s) for name, text in texts.items() for s in PLANTED if s in text]
    assert leaks == []
    for name in ("verdict.json", "junit.xml", "summary.md"):
        assert "leak-assert" in texts[name], f"{name} does not list the check"
    assert Path(out / "verdict.json").stat().st_size > 0


def test_verdict_json_says_no_go_while_the_run_is_going(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    make_suite(pytester, "http://127.0.0.1:4566", [])
    (pytester.path / "waivers.toml").unlink()
    pytester.makepyfile(
        test_checks="""
import json, pathlib
import pytest

@pytest.mark.audit
@pytest.mark.critical
@pytest.mark.check(id="reads-verdict", title="t", category="operations")
def test_during_the_run():
    data = json.loads(pathlib.Path("out/verdict.json").read_text())
    assert data["verdict"] == "NO_GO" and data["exit_code"] == 2
    assert data["complete"] is False
"""
    )
    (pytester.path / "out").mkdir()
    (pytester.path / "out" / "verdict.json").write_text('{"verdict": "GO", "exit_code": 0}')
    write_catalogue(pytester.path)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    after = json.loads((pytester.path / "out" / "verdict.json").read_text())
    assert after["verdict"] == "GO" and after["complete"] is True
