"""Go-live's pure parts: the decision branches, resume validity, the timeline, durations."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from deploy_steps.golive.decision import decide, describe
from deploy_steps.golive.resume import (
    ResumeError,
    RunState,
    StageRecord,
    latest_unfinished,
    load,
    reusable,
    save,
)
from deploy_steps.golive.timeline import html_page, terminal
from readiness.duration import parse_duration


def result(check: str, severity: str, outcome: str, **more: Any) -> dict[str, Any]:
    return {
        "check_id": check,
        "title": check,
        "severity": severity,
        "outcome": outcome,
        "resource": "us-east-1/prod-x",
        "message": f"us-east-1/prod-x fails {check}",
        "remediation": f"fix {check}",
        **more,
    }


def verdict(code: int, *results: dict[str, Any]) -> dict[str, Any]:
    return {"exit_code": code, "results": list(results), "problems": []}


PASS = result("ok-check", "critical", "passed")


def test_go_proceeds_without_risks() -> None:
    d = decide([("preflight", verdict(0, PASS), True, ""), ("audit", verdict(0, PASS), True, "")])
    assert d.proceeds and not d.with_risks and d.verdict == "GO"


def test_no_go_stops_with_failures_and_remediation() -> None:
    bad = result("rds-multi-az", "critical", "failed")
    d = decide([("preflight", verdict(0), True, ""), ("audit", verdict(2, bad), True, "")])
    assert not d.proceeds and d.verdict == "NO-GO"
    text = "\n".join(describe(d))
    assert "rds-multi-az" in text and "fix: fix rds-multi-az" in text


def test_untrusted_gate_is_no_go_even_if_the_file_says_go() -> None:
    d = decide([("audit", verdict(0, PASS), False, "pytest exited 1 but verdict.json says 0")])
    assert not d.proceeds and d.verdict == "NO-GO"
    assert any("pytest exited 1" in p for p in d.problems)


def test_conditional_without_acceptance_stops() -> None:
    warn = result("sqs-dlq", "warning", "failed")
    d = decide([("audit", verdict(1, warn), True, "")])
    assert not d.proceeds and d.verdict == "CONDITIONAL GO"
    assert [f.check_id for f in d.open_risks] == ["sqs-dlq"]
    assert "--accept-risks" in d.why


def test_conditional_with_accepted_risks_records_who() -> None:
    warn = result("sqs-dlq", "warning", "not-evaluated")
    d = decide([("audit", verdict(1, warn), True, "")], accept_by="alice")
    assert d.proceeds and d.with_risks
    assert d.accepted is not None and d.accepted.by == "alice" and d.accepted.how == "flag"
    assert d.to_json()["accepted"] == {"by": "alice", "how": "flag"}


def test_conditional_covered_by_waivers_proceeds_with_the_waiver_owner() -> None:
    waived = result(
        "rds-multi-az", "critical", "waived", waiver={"owner": "bob", "expires": "2099-01-01"}
    )
    d = decide([("audit", verdict(1, waived), True, "")])
    assert d.proceeds and d.with_risks and d.accepted is None
    assert d.waived[0].waiver_owner == "bob"


def test_a_waiver_does_not_cover_another_open_warning() -> None:
    waived = result("a", "warning", "waived", waiver={"owner": "bob", "expires": "2099-01-01"})
    open_one = result("b", "warning", "failed")
    d = decide([("audit", verdict(1, waived, open_one), True, "")])
    assert not d.proceeds and [f.check_id for f in d.open_risks] == ["b"]


def test_prompt_accepts_or_refuses() -> None:
    warn = result("sqs-dlq", "warning", "failed")
    stages = [("audit", verdict(1, warn), True, "")]
    yes = decide(stages, ask=lambda pending: "carol")
    assert yes.proceeds and yes.accepted is not None and yes.accepted.how == "prompt"
    no = decide(stages, ask=lambda pending: None)
    assert not no.proceeds


def _state(emulated: bool, audit_age_min: float) -> RunState:
    now = dt.datetime.now(dt.UTC)
    state = RunState("prod", "20260101T000000Z", now.isoformat(), emulated)
    for name in ("preflight", "audit", "decision", "deploy"):
        finished = now - dt.timedelta(minutes=audit_age_min)
        state.stages[name] = StageRecord(
            name, "done", finished.isoformat(), finished.isoformat(), 1.0, 0, "GO"
        )
    state.stages["decision"].outcome = "proceed"
    return state


def test_resume_keeps_fresh_stages_and_stops_at_the_unfinished_one() -> None:
    kept, why = reusable(_state(False, 5), dt.datetime.now(dt.UTC), 60)
    assert kept == {"preflight", "audit", "decision", "deploy"}
    assert "validations" in why


def test_resume_redoes_an_audit_older_than_the_limit() -> None:
    kept, why = reusable(_state(False, 90), dt.datetime.now(dt.UTC), 60)
    assert kept == set() and "90 min old" in why


def test_resume_never_reuses_a_deploy_on_the_emulator() -> None:
    kept, why = reusable(_state(True, 5), dt.datetime.now(dt.UTC), 60)
    assert "deploy" not in kept and "emulator" in why


def test_state_round_trips_and_latest_unfinished(tmp_path: Path) -> None:
    root = tmp_path / "go-live"
    older = _state(False, 1)
    older.finished, older.exit_code = True, 0
    save(older, root / "20260101T000000Z")
    newer = _state(False, 1)
    newer.stamp = "20260102T000000Z"
    save(newer, root / newer.stamp)
    assert latest_unfinished(root, "prod") == root / newer.stamp
    assert load(root / newer.stamp).stages["audit"].outcome == "GO"
    with pytest.raises(ResumeError, match="no unfinished go-live of 'other'"):
        latest_unfinished(root, "other")
    (root / newer.stamp / "state.json").write_text("{broken")
    with pytest.raises(ResumeError, match="cannot be read"):
        latest_unfinished(root, "prod")


def test_timeline_is_self_contained_and_links_stage_reports() -> None:
    state = _state(False, 0)
    for record in state.stages.values():
        record.report_dir = record.name
    state.stages["deploy"].duration_s = 61 * 60
    page = html_page(state)
    assert 'href="audit/readiness.html"' in page
    assert 'href="decision/decision.md"' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    text = terminal(state)
    assert "OVER 60 min" in text and "within 5 min" in text
    assert json.dumps(state.to_json())  # serialisable


@pytest.mark.parametrize(
    ("text", "minutes"), [("2h", 120), ("90m", 90), ("30s", 0.5), ("1h30m", 90), ("300", 5)]
)
def test_durations(text: str, minutes: float) -> None:
    assert parse_duration(text) / 60 == pytest.approx(minutes)


@pytest.mark.parametrize("text", ["", "h", "2x", "0m", "30m1h", "1h1h", "1.5.2m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
