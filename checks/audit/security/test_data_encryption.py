"""Data at rest and database exposure: RDS encryption and public access, DynamoDB and
SQS encryption.

DynamoDB always encrypts at rest. A table that reports no SSEDescription uses the
AWS-owned key: encrypted, but the key is outside the account, so its use shows in no
CloudTrail log and access to the data cannot be cut off by a key policy or by disabling
the key. Production data is expected on a KMS key (the AWS managed aws/dynamodb key or a
customer managed one); as the data is encrypted either way, this is a warning.
"""

import pytest

from readiness.inventory.collectors.rds import setting
from readiness.inventory.model import NotEvaluated, Resource

pytestmark = [pytest.mark.audit]
RDS_DOCS = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide"


@pytest.mark.critical
@pytest.mark.check(
    id="rds-storage-encrypted",
    title="RDS instances encrypt their storage",
    category="security",
    risk="Unencrypted storage, snapshots and replicas expose the data to anyone who gets a "
    "copy; encryption cannot be switched on later without a snapshot-restore migration.",
    remediation="Create an encrypted copy of a snapshot (aws rds copy-db-snapshot --kms-key-id "
    "alias/prod-data ...) and restore from it; terraform: storage_encrypted = true.",
    references=[
        f"{RDS_DOCS}/Overview.Encryption.html",
        "https://docs.aws.amazon.com/config/latest/developerguide/rds-storage-encrypted.html",
    ],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_storage_encrypted(resource: Resource) -> None:
    encrypted, holder = setting(resource, "StorageEncrypted")
    assert encrypted is True, f"{holder} stores its data unencrypted"


@pytest.mark.critical
@pytest.mark.check(
    id="rds-not-public",
    title="RDS instances are not publicly accessible",
    category="security",
    risk="A publicly accessible instance gets a public DNS address; one security group rule "
    "away from the internet, it invites credential stuffing and exploits.",
    remediation="aws rds modify-db-instance --db-instance-identifier NAME "
    "--no-publicly-accessible --apply-immediately  (terraform: publicly_accessible = false)",
    references=[
        f"{RDS_DOCS}/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding",
        "https://docs.aws.amazon.com/config/latest/developerguide/rds-instance-public-access-check.html",
    ],
)
@pytest.mark.resources("rds.db_instances")
def test_rds_not_public(resource: Resource) -> None:
    public = resource.get("PubliclyAccessible")
    if public is None:
        raise NotEvaluated(f"{resource.label}: PubliclyAccessible was not reported")
    assert public is False, f"{resource.label} is publicly accessible"


@pytest.mark.warning
@pytest.mark.check(
    id="dynamodb-kms-encryption",
    title="DynamoDB tables are encrypted with a KMS key",
    category="security",
    risk="On the default AWS-owned key, use of the key is not logged in CloudTrail and access "
    "to the data cannot be revoked through a key policy (the table is still encrypted).",
    remediation="aws dynamodb update-table --table-name NAME --sse-specification "
    "Enabled=true,SSEType=KMS[,KMSMasterKeyId=alias/prod-data]  (terraform: "
    "server_side_encryption { enabled = true, kms_key_arn = ... })",
    references=[
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html"
    ],
)
@pytest.mark.resources("dynamodb.tables")
def test_dynamodb_kms_encryption(resource: Resource) -> None:
    sse = resource.get("SSEDescription")
    assert sse, f"{resource.label} is encrypted only with the AWS-owned key (no KMS key)"
    status, kind = sse.get("Status"), sse.get("SSEType")
    assert kind == "KMS" and status in ("ENABLED", "UPDATING"), (
        f"{resource.label} has server-side encryption {status} of type {kind}"
    )
    assert sse.get("InaccessibleEncryptionDateTime") is None, (
        f"{resource.label} cannot reach its KMS key {sse.get('KMSMasterKeyArn')} "
        f"since {sse['InaccessibleEncryptionDateTime']}"
    )


@pytest.mark.warning
@pytest.mark.check(
    id="sqs-encryption",
    title="SQS queues use server-side encryption (SSE-SQS or KMS)",
    category="security",
    risk="Messages at rest in an unencrypted queue are readable in plain text by anyone who "
    "gets at the storage; payloads often carry personal data or tokens.",
    remediation="aws sqs set-queue-attributes --queue-url URL --attributes "
    "SqsManagedSseEnabled=true  (or KmsMasterKeyId=alias/prod-data; terraform: "
    "sqs_managed_sse_enabled = true or kms_master_key_id = ...)",
    references=[
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/"
        "sqs-server-side-encryption.html"
    ],
)
@pytest.mark.resources("sqs.queues")
def test_sqs_encryption(resource: Resource) -> None:
    kms_key = resource.get("KmsMasterKeyId")
    managed = str(resource.get("SqsManagedSseEnabled", "false")).lower() == "true"
    assert kms_key or managed, (
        f"{resource.label} is not encrypted at rest (no KmsMasterKeyId, SqsManagedSseEnabled "
        f"is {resource.get('SqsManagedSseEnabled', 'absent')})"
    )
