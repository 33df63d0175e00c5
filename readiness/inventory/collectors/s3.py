"""S3: the account-level public access block, and every bucket with its region, default
encryption, versioning, public access block and tags.

ListBuckets is global; each bucket lives in a region (GetBucketLocation: None or "" is
us-east-1, "EU" is eu-west-1) and its settings are read there. Every bucket of the
account is listed, whether or not its region is configured: a bucket is reachable from
everywhere. "Not configured" answers (NoSuch...) are recorded as None; only a failed
read becomes unavailable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict
from readiness.inventory.collectors.iam import absent_on

AUDIT = ("audit",)
NO_PAB = "NoSuchPublicAccessBlockConfiguration"
NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
NO_TAGS = "NoSuchTagSet"
LEGACY_LOCATIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}
PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def bucket_region(location: Any) -> str:
    """GetBucketLocation's LocationConstraint as a region name."""
    if location in LEGACY_LOCATIONS:
        return LEGACY_LOCATIONS[location]
    return str(location)


def missing_flags(configuration: dict[str, Any] | None) -> list[str]:
    """The public access block flags that are not true (all four when there is none)."""
    configuration = configuration or {}
    return [flag for flag in PAB_FLAGS if configuration.get(flag) is not True]


@collector(
    "s3.account_public_access_block",
    phases=AUDIT,
    scope="global",
    reads=("s3control:GetPublicAccessBlock",),
)
def account_public_access_block(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The account's S3 public access block (`PublicAccessBlockConfiguration`, None if unset)."""
    account = ctx.env.account_id
    answer = absent_on(
        lambda: ctx.fetch.call("s3control", "global", "get_public_access_block", AccountId=account),
        NO_PAB,
    )
    configuration = (answer or {}).get("PublicAccessBlockConfiguration")
    yield Found(id=account, data={"PublicAccessBlockConfiguration": configuration})


@collector(
    "s3.buckets",
    phases=AUDIT,
    scope="global",
    reads=(
        "s3:GetBucketEncryption",
        "s3:GetBucketLocation",
        "s3:GetBucketTagging",
        "s3:GetBucketVersioning",
        "s3:GetPublicAccessBlock",
        "s3:ListBuckets",
    ),
)
def buckets(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Every S3 bucket with Region, Encryption, Versioning, PublicAccessBlock and Tags."""
    listed = ctx.fetch.pages("s3", "global", "list_buckets", "Buckets")

    def describe(bucket: dict[str, Any]) -> Found:
        name = str(bucket["Name"])
        found = Found(id=name, arn=f"arn:aws:s3:::{name}", data=dict(bucket))
        found.enrich(
            "Region",
            lambda: bucket_region(
                ctx.fetch.call("s3", "global", "get_bucket_location", Bucket=name).get(
                    "LocationConstraint"
                )
            ),
        )
        home = found.data.get("Region")
        where = str(home) if isinstance(home, str) else "global"

        def read(operation: str, *absent: str) -> dict[str, Any] | None:
            return absent_on(lambda: ctx.fetch.call("s3", where, operation, Bucket=name), *absent)

        found.enrich(
            "Encryption",
            lambda: (read("get_bucket_encryption", NO_ENCRYPTION) or {}).get(
                "ServerSideEncryptionConfiguration"
            ),
        )
        found.enrich("Versioning", lambda: read("get_bucket_versioning") or {})
        found.enrich(
            "PublicAccessBlock",
            lambda: (read("get_public_access_block", NO_PAB) or {}).get(
                "PublicAccessBlockConfiguration"
            ),
        )
        found.enrich(
            "Tags", lambda: tag_dict((read("get_bucket_tagging", NO_TAGS) or {}).get("TagSet"))
        )
        tags = found.data.get("Tags")
        found.tags = dict(tags) if isinstance(tags, dict) else None
        return found

    return ctx.each(listed, describe)


COLLECTORS = (account_public_access_block, buckets)
