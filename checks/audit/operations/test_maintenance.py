"""Routine maintenance that keeps a database patched without a change ticket."""

import pytest

from readiness.inventory.model import NotEvaluated, Resource

pytestmark = [pytest.mark.audit, pytest.mark.warning]


@pytest.mark.check(
    id="rds-auto-minor-version-upgrade",
    title="RDS instances take minor engine upgrades automatically",
    category="operations",
    risk="Without automatic minor upgrades, security and bug fixes of the engine wait for "
    "someone to remember them, and forced upgrades arrive at AWS's time, not yours.",
    remediation="aws rds modify-db-instance --db-instance-identifier NAME "
    "--auto-minor-version-upgrade --apply-immediately  "
    "(terraform: auto_minor_version_upgrade = true)",
    references=[
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
        "USER_UpgradeDBInstance.Upgrading.html#USER_UpgradeDBInstance.Upgrading.AutoMinorVersionUpgrades",
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "rds-automatic-minor-version-upgrade-enabled.html",
    ],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_auto_minor_version_upgrade(resource: Resource) -> None:
    upgrades = resource.get("AutoMinorVersionUpgrade")
    if upgrades is None:  # AWS always reports it (on by default): absent means unknown
        raise NotEvaluated(f"{resource.label}: AutoMinorVersionUpgrade was not reported")
    assert upgrades is True, f"{resource.label} does not take minor engine upgrades automatically"
