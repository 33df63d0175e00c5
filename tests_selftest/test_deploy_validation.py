"""Phase 4's rate limiter burst and the zero-downtime prober against the demo
application on loopback; the canary judgement on AWS-shaped answers (never green
without data)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from deploy_steps.probe import Prober
from deploy_steps.validation import CanariesUnavailable, canaries_green, probe_rate_limit
from readiness.config import RateLimit
from readiness.emulator.app import DemoApp

LIMIT = RateLimit(url="unused", limit_per_second=10, burst_requests=40, normal_requests=5)


@pytest.fixture
def demo_app() -> Any:
    app = DemoApp(rate_per_second=10, burst=10)
    url = app.start()
    yield app, url
    app.stop()


def test_burst_is_throttled_while_normal_traffic_passes(demo_app: Any) -> None:
    _, url = demo_app
    result = probe_rate_limit(f"{url}/api/ping", LIMIT)
    assert result.problems == [], result.summary()
    assert result.normal == {200: 5}
    assert result.burst.get(429, 0) > 0 and result.burst.get(200, 0) > 0


def test_no_limiter_fails_the_check(demo_app: Any) -> None:
    app, url = demo_app
    app.limiter = None
    result = probe_rate_limit(f"{url}/api/ping", LIMIT)
    assert any("no throttling" in p for p in result.problems), result.summary()


def test_prober_counts_every_failed_probe(demo_app: Any) -> None:
    app, url = demo_app
    prober = Prober([f"{url}/health"], interval_s=0.05, timeout_s=1.0)
    prober.start()
    time.sleep(0.3)
    app.healthy = False
    time.sleep(0.3)
    app.healthy = True
    tally = prober.stop()
    assert tally.probes >= 4
    assert tally.failures >= 1
    assert "HTTP 503" in tally.first_failures[0]


def test_prober_is_bounded() -> None:
    prober = Prober(["http://127.0.0.1:9/health"], interval_s=0.01, timeout_s=0.2, max_probes=3)
    prober.start()
    time.sleep(1.5)
    tally = prober.stop()
    assert tally.probes == 3 and tally.failures == 3
    assert "no answer" in tally.first_failures[0]


class FakeSynthetics:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.calls = 0

    def describe_canaries_last_run(self, Names: list[str]) -> Any:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeAws:
    def __init__(self, client: FakeSynthetics) -> None:
        self._client = client

    def client(self, service: str, region: str | None = None) -> FakeSynthetics:
        assert service == "synthetics"
        return self._client


def _run(name: str, state: str, when: dt.datetime) -> dict[str, Any]:
    return {
        "CanaryName": name,
        "LastRun": {"Status": {"State": state}, "Timeline": {"Started": when, "Completed": when}},
    }


NOW = dt.datetime.now(dt.UTC)


def _judge(client: FakeSynthetics, **kwargs: Any) -> tuple[list[str], list[str]]:
    return canaries_green(
        FakeAws(client),  # type: ignore[arg-type]
        ["api", "web"],
        within_minutes=kwargs.pop("within", 1),
        since=kwargs.pop("since", time.monotonic()),
        poll_s=0.01,
        say=lambda _: None,
        **kwargs,
    )


def test_canaries_turn_green_within_the_window() -> None:
    red = {"CanariesLastRun": [_run("api", "FAILED", NOW), _run("web", "PASSED", NOW)]}
    green = {"CanariesLastRun": [_run("api", "PASSED", NOW), _run("web", "PASSED", NOW)]}
    client = FakeSynthetics([red, red, green])
    passed, problems = _judge(client)
    assert problems == [] and len(passed) == 2 and client.calls == 3


def test_red_after_the_window_and_missing_canaries_fail() -> None:
    client = FakeSynthetics([{"CanariesLastRun": [_run("api", "FAILED", NOW)]}])
    passed, problems = _judge(client, since=time.monotonic() - 120)
    assert passed == []
    assert "canary api: last run FAILED" in problems[0]
    assert problems[1] == "canary web: no run found"


def test_on_a_real_account_an_old_green_run_does_not_count() -> None:
    old = NOW - dt.timedelta(hours=1)
    client = FakeSynthetics(
        [{"CanariesLastRun": [_run("api", "PASSED", old), _run("web", "PASSED", old)]}]
    )
    passed, problems = _judge(client, since=time.monotonic() - 120, not_before=NOW)
    assert passed == [] and all("no run since the deploy started" in p for p in problems)


def test_no_run_data_is_not_evaluated_never_green() -> None:
    missing = ClientError(
        {
            "Error": {"Code": "404", "Message": "<!doctype html>"},
            "ResponseMetadata": {"HTTPStatusCode": 404},
        },
        "DescribeCanariesLastRun",
    )
    with pytest.raises(CanariesUnavailable, match="no canary run data"):
        _judge(FakeSynthetics([missing]))
