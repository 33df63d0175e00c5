"""Every public entry point is watched by a running CloudWatch Synthetics canary.

One test per `[[environments.NAME.endpoints]]` entry; the canary it names
(`canary = "..."`) must exist in one of the environment's regions and be RUNNING.
"""

from typing import Any

import pytest

from readiness.config import Endpoint
from readiness.inventory.collectors.synthetics import KIND, state
from readiness.inventory.model import Snapshot
from readiness.pytest_plugin import context

pytestmark = [pytest.mark.audit, pytest.mark.critical]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "endpoint" not in metafunc.fixturenames:
        return
    ctx = context(metafunc.config)
    endpoints: list[Any] = list(ctx.env.endpoints) if ctx is not None and ctx.env else []
    if endpoints:
        metafunc.parametrize("endpoint", endpoints, ids=[e.name for e in endpoints], indirect=True)
    else:
        metafunc.parametrize("endpoint", [None], ids=["none"], indirect=True)


@pytest.fixture
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    if not isinstance(request.param, Endpoint):
        pytest.skip("not-applicable: the environment configures no endpoints")
    return request.param


@pytest.mark.check(
    id="canary-running",
    title="Each configured endpoint has a CloudWatch Synthetics canary, and it is RUNNING",
    category="monitoring",
    risk="Without a running canary an outage of a public endpoint is noticed by its users, "
    "and the post-deploy validation has no success rate to judge.",
    remediation="aws synthetics create-canary --name NAME ... (or terraform "
    "aws_synthetics_canary with start_canary = true); aws synthetics start-canary --name "
    "NAME; set `canary = NAME` on the endpoint in readiness.toml.",
    references=[
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries.html"
    ],
)
def test_canary_running(endpoint: Endpoint, inventory: Snapshot) -> None:
    assert endpoint.canary, f"endpoint {endpoint.name} ({endpoint.url}) names no canary"
    canaries = [c for c in inventory.require(KIND) if c.id == endpoint.canary]
    where = ", ".join(inventory.target.regions)
    assert canaries, f"canary {endpoint.canary} (endpoint {endpoint.name}) not found in {where}"
    states = {c.label: state(c.data) for c in canaries}
    assert "RUNNING" in states.values(), (
        f"canary {endpoint.canary} (endpoint {endpoint.name}) is not RUNNING: "
        + ", ".join(f"{label} is {s}" for label, s in sorted(states.items()))
    )
