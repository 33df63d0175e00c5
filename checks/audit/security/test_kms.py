"""Keys and encryption defaults: customer managed KMS keys rotate their key material,
and EBS encrypts new volumes by default in every configured region.

Only keys the account manages and AWS can rotate are judged: AWS managed keys
(KeyManager AWS) rotate on their own; asymmetric, HMAC, imported and custom key store
keys cannot rotate automatically; disabled and pending-deletion keys encrypt nothing new.
"""

import pytest

from readiness.config import Environment
from readiness.inventory.collectors.kms import ROTATION, key_metadata, key_name, rotatable
from readiness.inventory.model import NotEvaluated, Resource

pytestmark = [pytest.mark.audit]


def rotatable_key(resource: Resource, env: Environment) -> bool:
    try:
        return rotatable(key_metadata(resource))
    except NotEvaluated:
        return True  # judged, and reported as not-evaluated, rather than dropped


@pytest.mark.warning
@pytest.mark.check(
    id="kms-key-rotation",
    title="Customer managed KMS keys have automatic rotation enabled",
    category="security",
    risk="Without rotation one key version protects years of data; a compromised or "
    "weakened key material cannot be retired without re-encrypting everything.",
    remediation="aws kms enable-key-rotation --key-id KEY_ID [--rotation-period-in-days "
    "365]  (terraform: aws_kms_key enable_key_rotation = true)",
    references=["https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html"],
)
@pytest.mark.resources("kms.keys", where=rotatable_key)
def test_kms_key_rotation(resource: Resource) -> None:
    key_metadata(resource)
    enabled = resource.need(ROTATION)
    assert enabled is True, f"KMS key {key_name(resource)} has automatic rotation off"


@pytest.mark.warning
@pytest.mark.check(
    id="ec2-ebs-default-encryption",
    title="EBS encryption by default is on in every configured region",
    category="security",
    risk="A volume or snapshot created without the encrypted flag (by a script, an AMI, a "
    "launch template) stores its data in plain text.",
    remediation="aws ec2 enable-ebs-encryption-by-default --region REGION  "
    "(terraform: aws_ebs_encryption_by_default enabled = true)",
    references=["https://docs.aws.amazon.com/ebs/latest/userguide/encryption-by-default.html"],
)
@pytest.mark.resources("ec2.ebs_encryption_by_default")
def test_ec2_ebs_default_encryption(resource: Resource) -> None:
    enabled = resource.get("EbsEncryptionByDefault")
    if enabled is None:
        raise NotEvaluated(f"{resource.label}: EbsEncryptionByDefault was not reported")
    assert enabled is True, f"{resource.label}: EBS encryption by default is off"
