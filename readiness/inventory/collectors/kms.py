"""KMS keys per region: DescribeKey of each (under `KeyMetadata`), its aliases, and the
rotation status of the keys it applies to (customer managed, symmetric, AWS_KMS origin,
enabled); other keys are listed without it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from readiness.inventory.collect import CollectContext, Found, collector
from readiness.inventory.model import NotEvaluated, Resource

METADATA = "KeyMetadata"
ROTATION = "KeyRotationEnabled"


def rotatable(metadata: Mapping[str, Any]) -> bool:
    """A key AWS can rotate automatically and the account is responsible for."""
    return (
        metadata.get("KeyManager") == "CUSTOMER"
        and metadata.get("KeySpec", metadata.get("CustomerMasterKeySpec")) == "SYMMETRIC_DEFAULT"
        and metadata.get("Origin") == "AWS_KMS"
        and metadata.get("KeyState") == "Enabled"
    )


@collector(
    "kms.keys",
    phases=("audit",),
    reads=("kms:DescribeKey", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListKeys"),
)
def keys(ctx: CollectContext, region: str) -> Iterable[Found]:
    """KMS keys with metadata, aliases and (where it applies) rotation status."""
    listed = ctx.fetch.pages("kms", region, "list_keys", "Keys")
    aliases: dict[str, list[str]] = {}
    for alias in ctx.fetch.pages("kms", region, "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(str(alias["TargetKeyId"]), []).append(str(alias["AliasName"]))

    def describe(key: dict[str, Any]) -> Found:
        key_id = str(key["KeyId"])
        found = Found(
            id=key_id, arn=key.get("KeyArn"), data={"Aliases": sorted(aliases.get(key_id, []))}
        )
        found.enrich(
            METADATA,
            lambda: ctx.fetch.call("kms", region, "describe_key", KeyId=key_id).get(METADATA, {}),
        )
        metadata = found.data.get(METADATA)
        if isinstance(metadata, dict) and rotatable(metadata):
            found.enrich(
                ROTATION,
                lambda: ctx.fetch.call("kms", region, "get_key_rotation_status", KeyId=key_id).get(
                    ROTATION
                ),
            )
        return found

    return ctx.each(listed, describe)


def key_metadata(resource: Resource) -> dict[str, Any]:
    """DescribeKey's answer for the key; NotEvaluated if it could not be read."""
    metadata = resource.need(METADATA)
    if not isinstance(metadata, dict):
        raise NotEvaluated(f"{resource.label}: the key was not described")
    return metadata


def key_name(resource: Resource) -> str:
    """The key's label with its aliases, for messages."""
    names = resource.get("Aliases") or []
    return f"{resource.label} ({', '.join(names)})" if names else resource.label


COLLECTORS = (keys,)
