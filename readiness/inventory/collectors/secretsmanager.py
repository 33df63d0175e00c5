"""Secrets Manager secrets (ListSecrets: rotation settings, no secret value)."""

from __future__ import annotations

from collections.abc import Iterable

from readiness.inventory.collect import CollectContext, Found, collector, tag_dict


@collector("secretsmanager.secrets", phases=("audit",), reads=("secretsmanager:ListSecrets",))
def secrets(ctx: CollectContext, region: str) -> Iterable[Found]:
    """Secrets with RotationEnabled (absent when never rotated), rules and tags."""
    for secret in ctx.fetch.pages("secretsmanager", region, "list_secrets", "SecretList"):
        yield Found(
            id=str(secret["Name"]),
            arn=secret.get("ARN"),
            data=secret,
            tags=tag_dict(secret.get("Tags")),
        )


COLLECTORS = (secrets,)
