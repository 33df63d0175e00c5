"""Data that can never be read: waivers of not-evaluated results, the environment's
`not_applicable` list, the waiver expiry cap and UTC-only expiry dates.

The rules as functions, then the verdict plugin in a tiny pytester suite, then the real
audit checks replayed from a demo snapshot whose Cost Explorer could not be read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.config import ConfigError, parse_config
from reports.outcomes import WAIVED_NOT_EVALUATED, CheckMeta, Outcome, Result, Severity
from reports.verdict import Verdict, decide, judge
from reports.waivers import (
    Waiver,
    WaiverFileError,
    WaiverState,
    apply_waivers,
    check_expiry_cap,
    parse_waivers,
)

from .conftest import REPO, SuiteRun, run_suite, write_catalogue

TODAY = dt.date(2026, 6, 1)
CHECK = CheckMeta(id="cost-actual-under-limit", title="Spend under the limit", category="cost")
GAP = "AccessDenied: Cost Explorer is not enabled"
UNREADABLE = f"ce.month_spend in global: {GAP}"  # how a gap reads in a result
WAIVABLE = (Outcome.FAILED, Outcome.NOT_EVALUATED)
RAW = (Outcome.PASSED, Outcome.NOT_APPLICABLE, Outcome.ERROR, *WAIVABLE)  # before waivers


def result(outcome: Outcome, severity: Severity = Severity.CRITICAL) -> Result:
    message = UNREADABLE if outcome is Outcome.NOT_EVALUATED else f"{outcome.value} here"
    return Result(
        nodeid="checks/test_cost.py::test_actual[global]",
        check=CHECK,
        severity=severity,
        outcome=outcome,
        resource="global",
        message=message,
    )


def row(covers: str = "not-evaluated", days: int = 30, **extra: Any) -> Waiver:
    return Waiver.model_validate(
        {
            "check": CHECK.id,
            "reason": "Cost Explorer is off in this member account",
            "owner": "finops-team",
            "expires": TODAY + dt.timedelta(days=days),
            "covers": covers,
            **extra,
        }
    )


# -- the rules ----------------------------------------------------------------------


def test_a_valid_not_evaluated_waiver_makes_a_critical_conditional_and_keeps_why() -> None:
    [waived], [status] = apply_waivers([result(Outcome.NOT_EVALUATED)], [row()], TODAY)
    assert waived.outcome is Outcome.WAIVED and waived.original is Outcome.NOT_EVALUATED
    assert waived.message == UNREADABLE
    assert waived.outcome_label == WAIVED_NOT_EVALUATED
    assert waived.to_json()["waiver"]["covers"] == "not-evaluated"
    assert status.state is WaiverState.APPLIED
    assert decide([waived]).verdict is Verdict.CONDITIONAL
    # The same rule as a waived critical failure: a warning at best.
    [failure], _ = apply_waivers([result(Outcome.FAILED)], [row("failed")], TODAY)
    assert judge(waived) is judge(failure) is Verdict.CONDITIONAL
    assert failure.outcome_label == "waived"


def test_a_waived_not_evaluated_warning_is_accepted_like_a_waived_failed_warning() -> None:
    warned = result(Outcome.NOT_EVALUATED, Severity.WARNING)
    [waived], _ = apply_waivers([warned], [row()], TODAY)
    assert decide([warned]).verdict is Verdict.CONDITIONAL
    assert decide([waived]).verdict is Verdict.GO


def test_an_expired_not_evaluated_waiver_leaves_the_run_no_go() -> None:
    [kept], [status] = apply_waivers([result(Outcome.NOT_EVALUATED)], [row(days=-1)], TODAY)
    assert kept.outcome is Outcome.NOT_EVALUATED
    assert status.state is WaiverState.EXPIRED
    assert decide([kept]).verdict is Verdict.NO_GO


def test_a_row_covers_only_the_outcome_it_names() -> None:
    # The default row accepts a known defect, not data that could not be read, and the
    # other way round: a risk accepted for one is never silently stretched to the other.
    [not_read], [status] = apply_waivers([result(Outcome.NOT_EVALUATED)], [row("failed")], TODAY)
    assert not_read.outcome is Outcome.NOT_EVALUATED and status.state is WaiverState.STALE
    [failed], [status] = apply_waivers([result(Outcome.FAILED)], [row()], TODAY)
    assert failed.outcome is Outcome.FAILED and status.state is WaiverState.STALE
    assert parse_waivers(
        '[[waiver]]\ncheck = "x"\nreason = "r"\nowner = "o"\nexpires = 2026-07-01\n', "w"
    )[0].covers == ("failed")


@given(
    st.lists(st.sampled_from(("failed", "not-evaluated")), min_size=1, max_size=4),
    st.sampled_from(tuple(Severity)),
)
def test_no_waiver_ever_turns_an_error_into_anything_but_no_go(
    covers: list[str], severity: Severity
) -> None:
    rows = [row(c) for c in covers] + [row(c, resource="*") for c in covers]
    after, statuses = apply_waivers([result(Outcome.ERROR, severity)], rows, TODAY)
    assert after[0].outcome is Outcome.ERROR
    assert decide(after).verdict is Verdict.NO_GO
    assert {s.state for s in statuses} == {WaiverState.STALE}


@given(
    st.lists(
        st.tuples(st.sampled_from(RAW), st.sampled_from(tuple(Severity))),
        min_size=1,
        max_size=8,
    ),
    st.lists(
        st.tuples(st.sampled_from(("failed", "not-evaluated")), st.integers(-3, 3)),
        max_size=4,
    ),
)
def test_a_row_only_ever_waives_its_own_outcome_and_never_improves_a_critical_to_go(
    found: list[tuple[Outcome, Severity]], rows: list[tuple[str, int]]
) -> None:
    before = [result(outcome, severity) for outcome, severity in found]
    after, _ = apply_waivers(before, [row(c, days) for c, days in rows], TODAY)
    for old, new in zip(before, after, strict=True):
        if new.outcome is Outcome.WAIVED:
            assert new.waiver is not None and new.waiver.days_left >= 0
            assert new.original is old.outcome and new.waiver.covers == old.outcome.value
            assert new.message == old.message
        else:
            assert new == old
    held = any(
        outcome is Outcome.ERROR or (severity is Severity.CRITICAL and outcome in WAIVABLE)
        for outcome, severity in found
    )
    if held:
        assert decide(after).verdict is not Verdict.GO


def test_a_waived_result_that_was_not_a_failure_or_unreadable_is_no_go() -> None:
    forged = Result(
        nodeid="n", check=CHECK, severity=Severity.WARNING, outcome=Outcome.WAIVED,
        original=Outcome.ERROR,
    )  # fmt: skip
    assert judge(forged) is Verdict.NO_GO


def test_covers_never_accepts_an_error() -> None:
    text = (
        '[[waiver]]\ncheck = "x"\nreason = "r"\nowner = "o"\nexpires = 2026-07-01\n'
        'covers = "error"\n'
    )
    with pytest.raises(
        WaiverFileError, match=r"waivers\.toml: waiver #1 \(check 'x'\): field 'covers'"
    ):
        parse_waivers(text, "waivers.toml")


def test_a_plain_date_lasts_to_the_end_of_its_utc_day_and_a_utc_date_time_to_its_moment() -> None:
    plain = row(days=0)
    assert not plain.expired(dt.datetime.combine(TODAY, dt.time(23, 59), dt.UTC))
    assert plain.expired(dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(), dt.UTC))
    [timed] = parse_waivers(
        f'[[waiver]]\ncheck = "{CHECK.id}"\nreason = "r"\nowner = "o"\n'
        f'expires = {TODAY.isoformat()}T12:00:00Z\ncovers = "not-evaluated"\n',
        "waivers.toml",
    )
    morning = dt.datetime.combine(TODAY, dt.time(11, 59), dt.UTC)
    afternoon = dt.datetime.combine(TODAY, dt.time(12, 0), dt.UTC)
    assert not timed.expired(morning) and timed.expired(afternoon)
    [kept], [status] = apply_waivers([result(Outcome.NOT_EVALUATED)], [timed], afternoon)
    assert kept.outcome is Outcome.NOT_EVALUATED and status.state is WaiverState.EXPIRED
    assert status.to_json(TODAY)["expires"] == f"{TODAY.isoformat()}T12:00:00Z"


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("2026-06-01T12:00:00+02:00", "is not in UTC"),
        ("2026-06-01T12:00:00-05:00", "is not in UTC"),
        ("2026-06-01T12:00:00", "is a local date-time with no offset"),
        ('"2026-06-01T12:00:00+01:00"', "is not in UTC"),
        ('"2026-06-01 12:00"', "is a local date-time with no offset"),
        ('"June 1st"', "is not a date"),
    ],
)
def test_a_date_time_that_is_not_utc_is_refused_with_one_message(
    written: str, problem: str
) -> None:
    text = f'[[waiver]]\ncheck = "x"\nreason = "r"\nowner = "o"\nexpires = {written}\n'
    with pytest.raises(WaiverFileError) as caught:
        parse_waivers(text, "waivers.toml")
    message = str(caught.value)
    assert message.startswith("waivers.toml: waiver #1 (check 'x'): field 'expires': ")
    assert problem in message and "write a UTC date (YYYY-MM-DD)" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "written", ["2026-06-01", "2026-06-01T08:00:00Z", "2026-06-01T08:00:00+00:00"]
)
def test_plain_dates_and_utc_date_times_are_accepted(written: str) -> None:
    text = f'[[waiver]]\ncheck = "x"\nreason = "r"\nowner = "o"\nexpires = {written}\n'
    [waiver] = parse_waivers(text, "waivers.toml")
    assert waiver.expires_on == dt.date(2026, 6, 1)


def test_an_expiry_beyond_the_cap_names_the_file_the_row_and_the_problem() -> None:
    rows = [row(days=365), row(days=10), row(days=366)]
    check_expiry_cap(rows[:2], 365, TODAY, "waivers.toml")  # up to the cap is fine
    with pytest.raises(WaiverFileError) as caught:
        check_expiry_cap(rows, 365, TODAY, "/srv/waivers.toml")
    message = str(caught.value)
    assert message.startswith(
        f"/srv/waivers.toml: waiver #3 (check '{CHECK.id}'): field 'expires': "
    )
    assert "366 days ahead, more than the 365 days readiness.toml allows" in message
    # Rows for another environment count too: the file is one document.
    other = row(days=400, environments=["staging"])
    with pytest.raises(WaiverFileError, match="waiver #1"):
        check_expiry_cap([other], 365, TODAY, "waivers.toml")


# -- readiness.toml: not_applicable and the cap -----------------------------------------

BASE_CONFIG = (
    'default_environment = "prod"\n[environments.prod]\naccount_id = "123456789012"\n'
    'regions = ["us-east-1"]\n'
)
ENTRY = 'check = "cost-actual-under-limit"\nreason = "CE is off"\nowner = "finops"\n'


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            "[[environments.prod.not_applicable]]\n" + ENTRY + "review = 2027-03-01T00:00:00Z\n",
            "environments.prod.not_applicable.0.review: must be a UTC date (YYYY-MM-DD)",
        ),
        (
            "[[environments.prod.not_applicable]]\n" + ENTRY,
            "environments.prod.not_applicable.0.review: required key is missing",
        ),
        (
            "[[environments.prod.not_applicable]]\n"
            + ENTRY.replace('"finops"', '"  "')
            + "review = 2027-03-01\n",
            "environments.prod.not_applicable.0.owner: must not be blank",
        ),
        (
            "[[environments.prod.not_applicable]]\n" + ENTRY + "review = 2027-03-01\nwhy = 1\n",
            "environments.prod.not_applicable.0.why: unknown key",
        ),
        (
            ("[[environments.prod.not_applicable]]\n" + ENTRY + "review = 2027-03-01\n") * 2,
            "environments.prod.not_applicable: lists check 'cost-actual-under-limit' twice",
        ),
    ],
)
def test_not_applicable_is_validated_strictly(extra: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(BASE_CONFIG + extra, "readiness.toml")
    assert str(caught.value).startswith("readiness.toml: ")
    assert problem in str(caught.value)


def test_not_applicable_names_only_catalogued_checks_that_are_not_deploy_steps() -> None:
    text = BASE_CONFIG + "[[environments.prod.not_applicable]]\n" + ENTRY + "review = 2027-03-01\n"
    config, _ = parse_config(text, "readiness.toml")
    assert config.waiver_max_days == 365
    catalogue = {"cost-actual-under-limit": "audit", "deploy-plan-gate": "deploy"}
    assert config.unknown_not_applicable(catalogue, "readiness.toml") is None
    unknown = config.unknown_not_applicable({"deploy-plan-gate": "deploy"}, "readiness.toml")
    assert unknown == (
        "readiness.toml: environments.prod.not_applicable.0.check: unknown check id "
        "'cost-actual-under-limit' (checks/catalogue.json lists every check id)"
    )
    deploy, _ = parse_config(text.replace("cost-actual-under-limit", "deploy-plan-gate"), "r")
    refused = deploy.unknown_not_applicable(catalogue, "r")
    assert refused is not None and "is a deploy step" in refused


def test_a_review_date_beyond_the_cap_is_refused() -> None:
    """No permanent exemption: an entry is reviewed at least as often as a waiver expires."""
    far = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=366)).isoformat()
    text = BASE_CONFIG + "[[environments.prod.not_applicable]]\n" + ENTRY + f"review = {far}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "readiness.toml")
    assert f"environments.prod.not_applicable.0.review: {far} is more than waiver_max_days" in (
        str(caught.value)
    )
    config, _ = parse_config("waiver_max_days = 400\n" + text, "readiness.toml")
    assert config.environment("prod").not_applicable[0].review.isoformat() == far


def test_the_expiry_cap_is_set_in_readiness_toml() -> None:
    config, _ = parse_config("waiver_max_days = 90\n" + BASE_CONFIG, "readiness.toml")
    assert config.waiver_max_days == 90
    with pytest.raises(ConfigError, match=r"readiness\.toml: waiver_max_days: "):
        parse_config("waiver_max_days = 0\n" + BASE_CONFIG, "readiness.toml")


# -- the verdict plugin in a tiny suite ----------------------------------------------------

INI = "[pytest]\nreadiness_gate = true\n"
CONFTEST = """
pytest_plugins = ["reports.plugin"]
ENTRIES = {entries!r}
MAX_DAYS = {max_days!r}


def pytest_readiness_target(config):
    return {{"environment": "member", "account": "210987654321", "regions": ["us-east-1"],
            "endpoint": None, "emulated": False, "seed": None}}


def pytest_readiness_not_applicable(config):
    return ENTRIES


def pytest_readiness_waiver_max_days(config):
    return MAX_DAYS
"""
CHECKS = """
import pytest

pytestmark = [pytest.mark.audit]


@pytest.mark.critical
@pytest.mark.check(id="cost-actual-under-limit", title="Spend under the limit", category="cost",
                   remediation="Look at Cost Explorer.")
def test_spend():
    pytest.skip("not-evaluated: ce:GetCostAndUsage AccessDenied (member account)")


@pytest.mark.warning
@pytest.mark.check(id="tags-present", title="Tags present", category="cost",
                   remediation="Tag it.")
def test_tags():
    pass
"""
BROKEN = CHECKS.replace(
    'pytest.skip("not-evaluated: ce:GetCostAndUsage AccessDenied (member account)")',
    "raise KeyError('ResultsByTime')",
)


def days_ahead(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def waiver_rows(expires: str, covers: tuple[str, ...] = ("not-evaluated",)) -> str:
    return "".join(
        f'[[waiver]]\ncheck = "cost-actual-under-limit"\nreason = "the payer account watches '
        f'the bill"\nowner = "finops-team"\nexpires = {expires}\ncovers = "{c}"\n\n'
        for c in covers
    )


def run_tiny(
    pytester: pytest.Pytester,
    waivers: str,
    *,
    checks: str = CHECKS,
    entries: list[dict[str, str]] | None = None,
    max_days: int | None = None,
) -> tuple[pytest.RunResult, dict[str, Any]]:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST.format(entries=entries, max_days=max_days))
    pytester.makepyfile(test_checks=checks)
    (pytester.path / "waivers.toml").write_text(waivers)
    write_catalogue(pytester.path)
    # The verdict plugin alone: the target and the lists come from this conftest's hooks.
    outcome = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:readiness.pytest_plugin")
    verdict = json.loads((pytester.path / "out" / "verdict.json").read_text())
    return outcome, verdict


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    return pytester


def five_outputs(out: Path, terminal: str) -> dict[str, str]:
    return {
        "terminal": terminal[terminal.index("READINESS VERDICT") :],
        "summary.md": (out / "summary.md").read_text(),
        "readiness.html": (out / "readiness.html").read_text(),
        "verdict.json": (out / "verdict.json").read_text(),
        "junit.xml": (out / "junit.xml").read_text(),
    }


def test_a_not_evaluated_critical_under_a_valid_waiver_is_conditional_go(
    tiny: pytest.Pytester,
) -> None:
    outcome, verdict = run_tiny(tiny, waiver_rows(days_ahead(30)))
    assert outcome.ret == 1, outcome.stdout.str()[-3000:]
    assert verdict["verdict"] == "CONDITIONAL_GO" and verdict["exit_code"] == 1
    [waived] = [r for r in verdict["results"] if r["check_id"] == "cost-actual-under-limit"]
    assert waived["outcome"] == "waived"
    assert waived["message"] == "ce:GetCostAndUsage AccessDenied (member account)"
    assert waived["waiver"]["covers"] == "not-evaluated"
    assert waived["waiver"]["label"] == WAIVED_NOT_EVALUATED
    assert [w["covers"] for w in verdict["waivers"]] == ["not-evaluated"]
    for name, text in five_outputs(tiny.path / "out", outcome.stdout.str()).items():
        assert WAIVED_NOT_EVALUATED in text, name
        assert "AccessDenied (member account)" in text, name
    suite = ET.parse(tiny.path / "out" / "junit.xml").getroot()
    skipped = [s.get("type") for s in suite.iter("skipped")]
    assert skipped == ["waived-not-evaluated"]


def test_a_not_evaluated_critical_under_an_expired_waiver_is_no_go(tiny: pytest.Pytester) -> None:
    outcome, verdict = run_tiny(tiny, waiver_rows(days_ahead(-1)))
    assert outcome.ret == 2 and verdict["verdict"] == "NO_GO"
    assert [w["state"] for w in verdict["waivers"]] == ["expired"]
    assert "critical not-evaluated: cost-actual-under-limit" in verdict["reasons"]


def test_a_waiver_never_turns_an_error_into_anything_but_no_go(tiny: pytest.Pytester) -> None:
    rows = waiver_rows(days_ahead(30), ("not-evaluated", "failed"))
    outcome, verdict = run_tiny(tiny, rows, checks=BROKEN)
    assert outcome.ret == 2 and verdict["verdict"] == "NO_GO"
    [broken] = [r for r in verdict["results"] if r["check_id"] == "cost-actual-under-limit"]
    assert broken["outcome"] == "error" and "waiver" not in broken
    assert [w["state"] for w in verdict["waivers"]] == ["stale", "stale"]


@pytest.mark.parametrize(
    ("expires", "max_days", "problem"),
    [
        (days_ahead(400), None, "is 400 days ahead, more than the 365 days"),
        (days_ahead(60), 30, "is 60 days ahead, more than the 30 days"),
        ("2026-06-01T09:00:00+02:00", None, "is not in UTC: write a UTC date"),
        ("2026-06-01T09:00:00", None, "is a local date-time with no offset: write a UTC date"),
    ],
    ids=["default cap", "configured cap", "offset", "naive"],
)
def test_a_refused_expiry_is_no_go_with_one_message(
    tiny: pytest.Pytester, expires: str, max_days: int | None, problem: str
) -> None:
    outcome, verdict = run_tiny(tiny, waiver_rows(expires), max_days=max_days)
    assert outcome.ret == 2 and verdict["verdict"] == "NO_GO"
    found = [p for p in verdict["problems"] if "waivers.toml" in p]
    assert len(found) == 1, verdict["problems"]
    assert re.search(r"waivers\.toml: waiver #1 \(check 'cost-actual-under-limit'\): "
                     r"field 'expires': ", found[0]), found[0]  # fmt: skip
    assert problem in found[0]
    assert verdict["waivers"] == []  # an invalid file covers nothing
    assert "Traceback" not in outcome.stdout.str()


def test_the_not_applicable_list_shows_in_all_five_outputs(tiny: pytest.Pytester) -> None:
    entries = [
        {
            "check_id": "cost-actual-under-limit",
            "reason": "Cost Explorer is switched off for member accounts",
            "owner": "finops-team",
            "review": "2027-03-01",
            "state": "in-force",
        },
        {
            "check_id": "tags-present",
            "reason": "tagging is audited by the payer account",
            "owner": "platform-team",
            "review": "2026-01-15",
            "state": "overdue",
        },
    ]
    outcome, verdict = run_tiny(tiny, "", entries=entries)
    assert verdict["not_applicable"] == entries
    for name, text in five_outputs(tiny.path / "out", outcome.stdout.str()).items():
        low = text.lower()
        assert "not applicable here" in low or "not_applicable" in low, name
        for entry in entries:
            for key in ("check_id", "reason", "owner", "review"):
                assert entry[key] in text, (name, key)
        assert "overdue" in low, name


def test_a_malformed_not_applicable_answer_is_a_run_problem(tiny: pytest.Pytester) -> None:
    entries = [{"check_id": "x", "reason": "r", "owner": "o", "review": "soon", "state": "ok"}]
    outcome, verdict = run_tiny(tiny, "", entries=entries)
    assert outcome.ret == 2
    assert any("a readiness hook failed" in p for p in verdict["problems"]), verdict["problems"]


# -- end to end: the real audit checks, replayed from a demo snapshot ----------------------

REVIEW_LATER = days_ahead(60)


def replay_setup(
    folder: Path, snapshot: Path, config_extra: str, waivers: str, head: str = ""
) -> list[str]:
    """A copy of readiness.toml with extra tables, the demo snapshot with Cost Explorer
    unreadable, a waiver file: the arguments of a replay of the audit phase."""
    folder.mkdir(parents=True)
    (folder / "docs").mkdir()
    (folder / "docs" / "runbook.md").write_text("# runbook\n")  # local's runbook_url
    data = json.loads(snapshot.read_text())
    data["kinds"]["ce.month_spend"] = {"global": {"gap": GAP}}
    (folder / "inventory.json").write_text(json.dumps(data))
    config = head + (REPO / "readiness.toml").read_text() + config_extra
    (folder / "readiness.toml").write_text(config)
    (folder / "waivers.toml").write_text(waivers)
    return [
        "-m",
        "audit",
        "--env",
        "local",
        f"--config={folder / 'readiness.toml'}",
        f"--snapshot={folder / 'inventory.json'}",
        f"--waivers={folder / 'waivers.toml'}",
    ]


def not_applicable(check: str, reason: str, review: str) -> str:
    return (
        f'\n[[environments.local.not_applicable]]\ncheck = "{check}"\nreason = "{reason}"\n'
        f'owner = "finops-team"\nreview = {review}\n'
    )


def waiver_row(check: str, expires: str) -> str:
    return (
        f'[[waiver]]\ncheck = "{check}"\nreason = "the payer account watches the bill"\n'
        f'owner = "finops-team"\nexpires = {expires}\ncovers = "not-evaluated"\n\n'
    )


def outcomes_of(run: SuiteRun, check: str) -> list[dict[str, Any]]:
    return [r for r in run.verdict["results"] if r["check_id"] == check]


@pytest.fixture(scope="module")
def demo_snapshot(demo_audit: Callable[[str], SuiteRun]) -> Path:
    run = demo_audit("local")
    assert run.verdict["verdict"] == "GO", run.stdout[-3000:]
    return run.out / "inventory.json"


@pytest.mark.slow
def test_replay_not_applicable_in_force_overdue_and_a_not_evaluated_waiver(
    tmp_path: Path, demo_snapshot: Path
) -> None:
    args = replay_setup(
        tmp_path / "in",
        demo_snapshot,
        not_applicable("cost-actual-under-limit", "Cost Explorer is off here", REVIEW_LATER)
        + not_applicable("cost-monthly-budget", "budgets live in the payer", "2020-01-01"),
        waiver_row("cost-forecast-under-limit", days_ahead(30)),
    )
    run = run_suite(args, tmp_path / "out", timeout=180)
    assert run.returncode == 1, run.stdout[-4000:]
    assert run.verdict["verdict"] == "CONDITIONAL_GO"
    assert run.verdict["reasons"] == [
        "critical waived: not evaluated: cost-forecast-under-limit [global/(unreadable)]"
    ]
    # In force: the check's result is not-applicable, with the entry's reason.
    [actual] = outcomes_of(run, "cost-actual-under-limit")
    assert actual["outcome"] == "not-applicable"
    assert actual["message"].startswith("Cost Explorer is off here (not applicable in environment")
    # Overdue: judged as usual (the demo has its budget).
    assert [r["outcome"] for r in outcomes_of(run, "cost-monthly-budget")] == ["passed"]
    # Waived, still saying why it was not evaluated.
    [forecast] = outcomes_of(run, "cost-forecast-under-limit")
    assert forecast["outcome"] == "waived" and forecast["message"] == UNREADABLE
    assert forecast["waiver"]["label"] == WAIVED_NOT_EVALUATED
    states = {e["check_id"]: e["state"] for e in run.verdict["not_applicable"]}
    assert states == {"cost-actual-under-limit": "in-force", "cost-monthly-budget": "overdue"}
    for name, text in five_outputs(run.out, run.stdout).items():
        for needed in (
            "cost-actual-under-limit",
            "Cost Explorer is off here",
            "finops-team",
            REVIEW_LATER,
            "2020-01-01",
            WAIVED_NOT_EVALUATED,
        ):
            assert needed in text, (name, needed)
        assert "overdue" in text.lower(), name


@pytest.mark.slow
def test_replay_overdue_entry_and_expired_waiver_leave_the_run_no_go(
    tmp_path: Path, demo_snapshot: Path
) -> None:
    args = replay_setup(
        tmp_path / "in",
        demo_snapshot,
        not_applicable("cost-actual-under-limit", "Cost Explorer is off here", "2020-01-01"),
        waiver_row("cost-forecast-under-limit", days_ahead(-1)),
    )
    run = run_suite(args, tmp_path / "out", timeout=180)
    assert run.returncode == 2, run.stdout[-4000:]
    reasons = run.verdict["reasons"]
    assert "critical not-evaluated: cost-actual-under-limit [global/(unreadable)]" in reasons
    assert "critical not-evaluated: cost-forecast-under-limit [global/(unreadable)]" in reasons
    assert [w["state"] for w in run.verdict["waivers"]] == ["expired"]
    assert [e["state"] for e in run.verdict["not_applicable"]] == ["overdue"]


@pytest.mark.slow
def test_replay_the_configured_cap_and_an_unknown_check_id_are_refused(
    tmp_path: Path, demo_snapshot: Path
) -> None:
    args = replay_setup(
        tmp_path / "in",
        demo_snapshot,
        not_applicable("cost-actual-under-limt", "typo", days_ahead(20)),
        waiver_row("cost-forecast-under-limit", days_ahead(60)),
        head="waiver_max_days = 30\n",
    )
    run = run_suite(args, tmp_path / "out", timeout=180)
    assert run.returncode == 2 and run.verdict["verdict"] == "NO_GO"
    problems = run.verdict["problems"]
    assert any(
        "environments.local.not_applicable.0.check: unknown check id 'cost-actual-under-limt'" in p
        for p in problems
    ), problems
    assert any(
        "waiver #1 (check 'cost-forecast-under-limit'): field 'expires'" in p
        and "60 days ahead, more than the 30 days" in p
        for p in problems
    ), problems
    assert "Traceback" not in run.stdout + run.stderr
