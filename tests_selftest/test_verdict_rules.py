"""The verdict table as pure rules (the plugin-level rows are in test_verdict_table.py)."""

from reports.outcomes import CheckMeta, Outcome, Result, Severity
from reports.verdict import Verdict, decide

META = CheckMeta(id="x-check", title="X", category="security")


def result(outcome: Outcome, severity: Severity = Severity.CRITICAL) -> Result:
    return Result(nodeid="n", check=META, severity=severity, outcome=outcome)


def test_all_passed_is_go() -> None:
    assert decide([result(Outcome.PASSED), result(Outcome.NOT_APPLICABLE)]).verdict is Verdict.GO


def test_no_results_is_no_go() -> None:
    decision = decide([])
    assert decision.verdict is Verdict.NO_GO
    assert "no check ran" in decision.reasons[0]


def test_warning_failure_is_conditional() -> None:
    assert decide([result(Outcome.FAILED, Severity.WARNING)]).verdict is Verdict.CONDITIONAL


def test_critical_failure_is_no_go() -> None:
    assert decide([result(Outcome.FAILED)]).verdict is Verdict.NO_GO


def test_not_evaluated_counts_like_a_failure() -> None:
    assert decide([result(Outcome.NOT_EVALUATED)]).verdict is Verdict.NO_GO
    warn = result(Outcome.NOT_EVALUATED, Severity.WARNING)
    assert decide([warn]).verdict is Verdict.CONDITIONAL


def test_any_error_is_no_go_even_for_a_warning() -> None:
    assert decide([result(Outcome.ERROR, Severity.WARNING)]).verdict is Verdict.NO_GO


def test_waived_critical_is_conditional_at_best() -> None:
    waived = Result(
        nodeid="n",
        check=META,
        severity=Severity.CRITICAL,
        outcome=Outcome.WAIVED,
        original=Outcome.FAILED,
    )
    assert decide([waived]).verdict is Verdict.CONDITIONAL


def test_run_problem_is_no_go() -> None:
    decision = decide([result(Outcome.PASSED)], ["the run was interrupted"])
    assert decision.verdict is Verdict.NO_GO
    assert decision.exit_code == 2
