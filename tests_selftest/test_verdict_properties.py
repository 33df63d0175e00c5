"""Properties of the pure verdict rules and the waiver rules (hypothesis)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.outcomes import CheckMeta, Outcome, Result, Severity
from reports.verdict import Verdict, decide, judge
from reports.waivers import Waiver, WaiverState, apply_waivers

TODAY = dt.date(2026, 6, 1)
IDS = ("a-check", "b-check", "c-check")
RESOURCES = ("", "us-east-1/one", "us-west-2/two")
BAD = (Outcome.FAILED, Outcome.ERROR, Outcome.NOT_EVALUATED)
RAW = (Outcome.PASSED, Outcome.NOT_APPLICABLE, *BAD)  # what a run produces before waivers


@st.composite
def results(draw: st.DrawFn, outcomes: tuple[Outcome, ...] = RAW) -> Result:
    check_id = draw(st.sampled_from(IDS))
    return Result(
        nodeid=f"checks/test_x.py::test_{check_id}",
        check=CheckMeta(id=check_id, title=check_id, category="security"),
        severity=draw(st.sampled_from(tuple(Severity))),
        outcome=draw(st.sampled_from(outcomes)),
        resource=draw(st.sampled_from(RESOURCES)),
    )


@st.composite
def waivers(draw: st.DrawFn, days: st.SearchStrategy[int] | None = None) -> Waiver:
    offset = draw(days if days is not None else st.integers(-30, 30))
    return Waiver(
        check=draw(st.sampled_from(IDS)),
        resource=draw(st.sampled_from((None, "us-east-1/*", "us-west-2/two", "nowhere"))),
        reason="accepted",
        owner="team",
        expires=TODAY + dt.timedelta(days=offset),
    )


run = st.lists(results(), max_size=12)
rows = st.lists(waivers(), max_size=5)
problems = st.lists(st.text(min_size=1, max_size=10), max_size=2)


def verdict(found: list[Result], rows: list[Waiver], issues: Sequence[str] = ()) -> Verdict:
    waived, _ = apply_waivers(found, rows, TODAY)
    return decide(waived, issues).verdict


@given(st.lists(results(), min_size=1, max_size=12), rows, problems, results(outcomes=BAD))
def test_adding_a_failure_never_improves_the_verdict(
    found: list[Result], rows: list[Waiver], issues: list[str], bad: Result
) -> None:
    # (An empty run is NO-GO by its own rule, so the property starts from one result.)
    assert verdict([*found, bad], rows, issues) >= verdict(found, rows, issues)


@given(run, rows)
def test_the_verdict_is_the_worst_result(found: list[Result], rows: list[Waiver]) -> None:
    after, _ = apply_waivers(found, rows, TODAY)
    expected = max((judge(r) for r in after), default=Verdict.NO_GO)  # an empty run: NO-GO
    assert decide(after).verdict is expected


@given(run, rows, results(outcomes=BAD))
def test_a_waiver_never_turns_a_critical_into_go(
    found: list[Result], rows: list[Waiver], bad: Result
) -> None:
    critical = Result(
        nodeid=bad.nodeid,
        check=bad.check,
        severity=Severity.CRITICAL,
        outcome=bad.outcome,
        resource=bad.resource,
    )
    # A waiver written for exactly this result, valid for a long time.
    exact = Waiver(
        check=critical.check.id,
        resource=critical.resource or None,
        reason="r",
        owner="o",
        expires=TODAY + dt.timedelta(days=400),
    )
    assert verdict([*found, critical], [*rows, exact]) is not Verdict.GO


@given(run, rows, st.lists(waivers(days=st.integers(-400, -1)), min_size=1, max_size=3))
def test_an_expired_waiver_changes_nothing(
    found: list[Result], rows: list[Waiver], expired: list[Waiver]
) -> None:
    before, _ = apply_waivers(found, rows, TODAY)
    after, statuses = apply_waivers(found, [*rows, *expired], TODAY)
    assert after == before
    assert decide(after).verdict is decide(before).verdict
    assert [s.state for s in statuses[len(rows) :]] == [WaiverState.EXPIRED] * len(expired)


@given(run, rows)
def test_waivers_cover_only_failures(found: list[Result], rows: list[Waiver]) -> None:
    after, _ = apply_waivers(found, rows, TODAY)
    for original, now in zip(found, after, strict=True):
        if now.outcome is Outcome.WAIVED:
            assert original.outcome is Outcome.FAILED
            assert now.waiver is not None and now.waiver.days_left >= 0
        else:
            assert now == original


@given(run, rows, problems, st.randoms(use_true_random=False))
def test_the_verdict_does_not_depend_on_order(
    found: list[Result], rows: list[Waiver], issues: list[str], rnd: object
) -> None:
    shuffled = list(found)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert verdict(shuffled, rows, issues) is verdict(found, rows, issues)


@given(run, rows, st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=3))
def test_any_run_problem_is_no_go(
    found: list[Result], rows: list[Waiver], issues: list[str]
) -> None:
    decision = decide(apply_waivers(found, rows, TODAY)[0], issues)
    assert decision.verdict is Verdict.NO_GO and decision.exit_code == 2


@settings(max_examples=200)
@given(run, rows)
def test_go_means_nothing_held_against_the_run(found: list[Result], rows: list[Waiver]) -> None:
    after, _ = apply_waivers(found, rows, TODAY)
    if decide(after).verdict is Verdict.GO:
        assert after
        for r in after:
            assert r.outcome in (Outcome.PASSED, Outcome.NOT_APPLICABLE) or (
                r.outcome is Outcome.WAIVED and r.severity is Severity.WARNING
            )
