"""Secrets Manager: every secret rotates automatically. ListSecrets leaves
RotationEnabled out for a secret that was never set up to rotate: that is off."""

import pytest

from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit]


@pytest.mark.warning
@pytest.mark.check(
    id="secretsmanager-rotation",
    title="Secrets Manager secrets have automatic rotation enabled",
    category="security",
    risk="A secret that never changes stays valid in every place it ever leaked to "
    "(old laptops, logs, former staff).",
    remediation="aws secretsmanager rotate-secret --secret-id NAME --rotation-lambda-arn ARN "
    "--rotation-rules AutomaticallyAfterDays=30 (or managed rotation for RDS master "
    "passwords: manage_master_user_password = true)",
    references=[
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html"
    ],
)
@pytest.mark.resources("secretsmanager.secrets")
def test_secretsmanager_rotation(resource: Resource) -> None:
    assert resource.get("RotationEnabled") is True, (
        f"secret {resource.label} has automatic rotation off"
    )
