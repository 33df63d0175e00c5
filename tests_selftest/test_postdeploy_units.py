"""The pieces of the watch on their own: durations, the decision tree, the rollback
command, notifications that fail without breaking anything, the canary chart."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from deploy_steps.golive.monitoring import rollback_argv
from readiness.aws.access import AwsAccess
from readiness.config import Environment, Notify
from readiness.duration import parse_duration
from readiness.notify import Message, Notifier, PublishOnlyViolation, publish_client, webhook_label
from readiness.postdeploy.chart import success_chart
from readiness.postdeploy.decide import History, Limits
from readiness.postdeploy.watch import (
    Action,
    RoundResult,
    Watch,
    WatchOptions,
    ruling_for,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300.0), ("2h", 7200.0), ("30s", 30.0), ("0.5", 0.5), ("1 h", 3600), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "-1m", "0s", "two hours"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def _result(code: int, results: list[dict[str, Any]], reason: str = "") -> RoundResult:
    return RoundResult(code, {"results": results, "verdict_label": "?"}, reason, Path("r"))


CRITICAL_FAILED = {"severity": "critical", "outcome": "failed", "check_id": "alarm-not-firing"}
CRITICAL_UNKNOWN = {"severity": "critical", "outcome": "not-evaluated", "check_id": "x"}
WARNING_FAILED = {"severity": "warning", "outcome": "failed", "check_id": "lambda-invocations"}


def decide(result: RoundResult) -> Action:
    """One round, with nothing before it."""
    return ruling_for(result, History(), Limits()).action


def test_the_decision_tree() -> None:
    assert decide(_result(0, [])) is Action.CONTINUE
    assert decide(_result(2, [CRITICAL_FAILED])) is Action.ROLLBACK
    assert decide(_result(1, [WARNING_FAILED])) is Action.PREPARED
    # Blind is not broken: a critical that could not be read prepares, it does not roll back.
    assert decide(_result(2, [CRITICAL_UNKNOWN])) is Action.PREPARED
    # An untrusted run is never acted on as if its results were true.
    assert decide(_result(2, [CRITICAL_FAILED], "pytest exited 1")) is Action.PREPARED
    assert decide(_result(0, [], "the run did not finish")) is Action.PREPARED


def test_rollback_command_is_filled_in_and_readiness_is_this_installation() -> None:
    argv = rollback_argv(
        ("readiness", "rollback", "--journal", "{report_dir}/deploy-journal.json"),
        Path("/tmp/out"),
        "prod",
    )
    assert argv == (
        sys.executable,
        "-m",
        "deploy_steps.cli",
        "rollback",
        "--journal",
        "/tmp/out/deploy-journal.json",
    )
    assert rollback_argv(("/bin/echo", "{env}"), Path("x"), "prod") == ("/bin/echo", "prod")


def _env(**notify: str) -> Environment:
    return Environment(account_id="123456789012", regions=["us-east-1"], notify=Notify(**notify))


def test_a_webhook_that_cannot_be_reached_is_reported_not_raised() -> None:
    notifier = Notifier(_env(webhook_url="http://127.0.0.1:9/hooks/secret-token"), timeout_s=2)
    [delivery] = notifier.send(Message("prod", "NO-GO", "round 2"))
    assert delivery.ok is False
    assert delivery.error
    assert "secret-token" not in delivery.target
    assert (
        webhook_label("https://hooks.slack.com/services/T/B/xyz") == "https://hooks.slack.com/..."
    )


def test_sns_without_access_is_reported_not_raised() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:prod-alerts"
    [delivery] = Notifier(_env(sns_topic_arn=topic)).send(Message("prod", "NO-GO", "x"))
    assert (delivery.channel, delivery.ok) == ("sns", False)


def test_the_notifier_may_publish_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        env = _env()
        access = AwsAccess(env, endpoint_url=None, read_only=True)
        client = publish_client(access, "us-east-1")
        with pytest.raises(PublishOnlyViolation):
            client.create_topic(Name="sneaky")
        import boto3

        arn = boto3.client("sns", region_name="us-east-1").create_topic(Name="t")["TopicArn"]
        assert client.publish(TopicArn=arn, Message="hello")["MessageId"]


def test_a_message_lists_failures_and_the_report() -> None:
    message = Message(
        "prod", "NO-GO", "critical failure", tuple(f"f{i}" for i in range(12)), "out/watch.html"
    )
    text = message.text()
    assert "Readiness [prod] NO-GO: critical failure" in text
    assert "- f9" in text and "- f10" not in text and "and 2 more" in text
    assert text.endswith("Report: out/watch.html")
    assert message.slack()["readiness"]["failures"][11] == "f11"


def test_the_canary_chart_draws_the_threshold_and_marks_low_points() -> None:
    points = [
        {"Timestamp": f"2026-01-01T{h:02d}:00:00+00:00", "Average": v, "SampleCount": 1}
        for h, v in ((0, 100.0), (1, 80.0), (2, 100.0))
    ]
    svg = success_chart("prod-api-health", points, 95.0, 2)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'class="threshold"' in svg and 'class="success"' in svg
    assert svg.count("<circle") == 1  # the 80 % point is below the line
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    empty = success_chart("prod-api-health", [], 95.0, 2)
    assert "no datapoints" in empty and 'class="threshold"' in empty


def test_the_watch_is_bounded_and_keeps_watching_through_a_warning(tmp_path: Path) -> None:
    answers = [_result(0, []), _result(1, [WARNING_FAILED]), _result(1, [WARNING_FAILED])]
    seen: list[int] = []

    def run_round(number: int, report_dir: Path) -> RoundResult:
        seen.append(number)
        return answers[number - 1]

    options = WatchOptions("prod", tmp_path, 0.01, 0.02, ("true",))
    watch = Watch(options, run_round, None)
    assert options.rounds == 3
    assert watch.run() == 1
    assert seen == [1, 2, 3]
    assert [r.action for r in watch.rounds] == [Action.CONTINUE, Action.PREPARED, Action.PREPARED]
    assert (tmp_path / "watch.md").read_text().count("| rollback prepared |") == 2


def test_a_round_that_cannot_run_prepares_the_rollback_and_the_watch_goes_on(
    tmp_path: Path,
) -> None:
    calls: list[int] = []

    def run_round(number: int, report_dir: Path) -> RoundResult:
        calls.append(number)
        if number == 1:
            raise OSError("no such file: pytest")
        return _result(0, [])

    watch = Watch(WatchOptions("prod", tmp_path, 0.01, 0.01, ("true",)), run_round, None)
    assert watch.run() == 0
    assert calls == [1, 2]
    first = watch.rounds[0]
    assert first.action is Action.PREPARED
    assert "OSError: no such file: pytest" in first.failures[0]
    assert watch.rounds[1].action is Action.CONTINUE
