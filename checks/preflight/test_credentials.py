"""Seed step 1, `setup-aws-env.sh`: are the credentials valid, and for the right account?"""

import pytest

from readiness.inventory.model import Resource, Snapshot

pytestmark = [pytest.mark.preflight, pytest.mark.critical]


@pytest.mark.check(
    id="preflight-credentials-valid",
    title="AWS credentials resolve and are accepted",
    category="preflight",
    risk="Nothing can be checked or deployed with credentials AWS rejects.",
    remediation="Refresh the credentials (aws sso login --profile NAME) or fix the profile "
    "named in readiness.toml.",
)
def test_credentials_valid(inventory: Snapshot) -> None:
    gaps = inventory.gaps("sts.identity")
    assert not gaps, f"sts:GetCallerIdentity failed: {gaps[0].reason}"
    assert inventory.resources("sts.identity"), "no caller identity was returned"


@pytest.mark.check(
    id="preflight-account-matches",
    title="The credentials belong to the environment's account",
    category="preflight",
    risk="A deploy or audit against the wrong account judges or changes the wrong thing.",
    remediation="Use the profile or role of the account readiness.toml names for this environment.",
)
def test_account_matches(inventory: Snapshot) -> None:
    identity = inventory.first("sts.identity")
    assert identity is not None, "no caller identity was returned"
    expected = inventory.target.account
    actual = identity.get("Account")
    assert actual == expected, f"the credentials are for account {actual}, not {expected}"


@pytest.mark.check(
    id="preflight-region-answers",
    title="Every configured region answers",
    category="preflight",
    risk="A region that does not answer cannot be audited, so its risks stay unknown.",
    remediation="Check the region name, network access and any SCP that denies the region.",
)
@pytest.mark.resources("region.zones")
def test_region_answers(resource: Resource) -> None:
    zones = resource.get("Zones") or []
    assert zones, f"{resource.region} lists no available availability zone"
