"""Log groups keep their events long enough, and the ones the environment names exist.

A log group without `retentionInDays` never expires its events: that keeps them long
enough, so it passes, with a note that it is paid for forever.
"""

from collections.abc import Callable
from typing import Any

import pytest

from readiness.config import Thresholds
from readiness.inventory.collectors.logs import KIND
from readiness.inventory.model import Resource, Snapshot
from readiness.pytest_plugin import context

pytestmark = [pytest.mark.audit, pytest.mark.warning]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "log_group_name" not in metafunc.fixturenames:
        return
    ctx = context(metafunc.config)
    names: list[Any] = list(ctx.env.log_groups) if ctx is not None and ctx.env else []
    metafunc.parametrize("log_group_name", names or [None], ids=names or ["none"], indirect=True)


@pytest.fixture
def log_group_name(request: pytest.FixtureRequest) -> str:
    if not isinstance(request.param, str):
        pytest.skip("not-applicable: the environment names no log groups")
    return request.param


@pytest.mark.check(
    id="log-group-retention",
    title="Log groups keep events at least thresholds.log_retention_days",
    category="monitoring",
    risk="Logs expired before an incident is investigated (or an audit asks) leave no "
    "trace of what happened.",
    remediation="aws logs put-retention-policy --log-group-name NAME --retention-in-days 30 "
    "(terraform: retention_in_days on aws_cloudwatch_log_group).",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html#SettingLogRetention"
    ],
)
@pytest.mark.resources(KIND)
def test_log_group_retention(
    resource: Resource,
    thresholds: Thresholds,
    record_property: Callable[[str, object], None],
) -> None:
    days = resource.get("retentionInDays")
    floor = thresholds.log_retention_days
    if days is None:
        record_property("note", f"{resource.label} never expires its events (stored forever)")
        return
    assert int(days) >= floor, (
        f"{resource.label} keeps events {days} days, under the {floor}-day threshold"
    )


@pytest.mark.check(
    id="log-group-exists",
    title="The log groups the environment names exist",
    category="monitoring",
    risk="A service that logs to a missing group (or one under another name) leaves no "
    "logs to investigate with.",
    remediation="Create the log group (aws logs create-log-group --log-group-name NAME) "
    "with a retention policy, or fix `log_groups` in readiness.toml.",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html"
    ],
)
def test_log_group_exists(log_group_name: str, inventory: Snapshot) -> None:
    found = [g for g in inventory.require(KIND) if g.id == log_group_name]
    where = ", ".join(inventory.target.regions)
    assert found, f"log group {log_group_name} not found in {where}"
