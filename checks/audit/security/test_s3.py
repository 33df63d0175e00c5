"""S3: the account-level public access block, and each bucket's default encryption,
versioning and public access block. A bucket is named by its (global) name; its region
is in the message."""

import pytest

from readiness.inventory.collectors.s3 import missing_flags
from readiness.inventory.model import Resource

pytestmark = [pytest.mark.audit]
S3_DOCS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide"
PAB_FLAGS = (
    "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
)


@pytest.mark.critical
@pytest.mark.check(
    id="s3-account-public-access-block",
    title="The account-level S3 public access block has all four settings on",
    category="security",
    risk="Without it, one bucket policy or ACL written in a hurry makes data public; the "
    "account-level block overrides every bucket's own settings.",
    remediation="aws s3control put-public-access-block --account-id ACCOUNT "
    f"--public-access-block-configuration {PAB_FLAGS}  "
    "(terraform: aws_s3_account_public_access_block)",
    references=[f"{S3_DOCS}/configuring-block-public-access-account.html"],
)
@pytest.mark.resources("s3.account_public_access_block")
def test_s3_account_public_access_block(resource: Resource) -> None:
    configuration = resource.get("PublicAccessBlockConfiguration")
    assert configuration is not None, (
        f"account {resource.label} has no account-level S3 public access block"
    )
    missing = missing_flags(configuration)
    assert not missing, (
        f"account {resource.label}: the account-level S3 public access block leaves "
        f"{', '.join(missing)} off"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="s3-bucket-encryption",
    title="S3 buckets have default encryption",
    category="security",
    risk="Objects written without encryption headers are stored in plain text.",
    remediation="aws s3api put-bucket-encryption --bucket NAME --server-side-encryption-"
    'configuration \'{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":'
    '"aws:kms"},"BucketKeyEnabled":true}]}\'  (terraform: '
    "aws_s3_bucket_server_side_encryption_configuration)",
    references=[f"{S3_DOCS}/default-bucket-encryption.html"],
)
@pytest.mark.resources("s3.buckets")
def test_s3_bucket_encryption(resource: Resource) -> None:
    configuration = resource.need("Encryption") or {}
    algorithms = [
        (rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
        for rule in configuration.get("Rules") or []
    ]
    assert any(algorithms), (
        f"bucket {resource.label} ({resource.get('Region')}) has no default encryption"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="s3-bucket-versioning",
    title="S3 buckets have versioning enabled",
    category="security",
    risk="Without versioning an overwrite or a delete (a bug, a compromised credential, "
    "ransomware) destroys the only copy of an object.",
    remediation="aws s3api put-bucket-versioning --bucket NAME --versioning-configuration "
    'Status=Enabled  (terraform: aws_s3_bucket_versioning status = "Enabled")',
    references=[f"{S3_DOCS}/Versioning.html"],
)
@pytest.mark.resources("s3.buckets")
def test_s3_bucket_versioning(resource: Resource) -> None:
    versioning = resource.need("Versioning") or {}
    status = versioning.get("Status") or "never enabled"
    assert status == "Enabled", (
        f"bucket {resource.label} ({resource.get('Region')}) has versioning {status}"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="s3-bucket-public-access-block",
    title="S3 buckets have their own public access block with all four settings on",
    category="security",
    risk="The bucket is protected only by the account-level block; if that is ever relaxed "
    "for one use, this bucket can be made public by its policy or ACLs.",
    remediation="aws s3api put-public-access-block --bucket NAME "
    f"--public-access-block-configuration {PAB_FLAGS}  "
    "(terraform: aws_s3_bucket_public_access_block)",
    references=[f"{S3_DOCS}/configuring-block-public-access-bucket.html"],
)
@pytest.mark.resources("s3.buckets")
def test_s3_bucket_public_access_block(resource: Resource) -> None:
    configuration = resource.need("PublicAccessBlock")
    where = f"bucket {resource.label} ({resource.get('Region')})"
    assert configuration is not None, f"{where} has no public access block"
    missing = missing_flags(configuration)
    assert not missing, f"{where}: its public access block leaves {', '.join(missing)} off"
