"""IAM, account-wide: the account summary (root MFA and root keys), the password policy,
and the users with their access keys.

The account-level kinds hold one record, named by the account id, so a check judges the
account as one resource. An answer that means "not set" (NoSuchEntity for the password
policy) is recorded as such; only a read that failed becomes a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from readiness.aws.errors import FetchError
from readiness.inventory.collect import CollectContext, Found, collector, tag_dict

AUDIT = ("audit",)
T = TypeVar("T")


def absent_on(read: Callable[[], T], *codes: str) -> T | None:
    """The read's answer, or None when AWS answers with one of `codes` ("not configured")."""
    try:
        return read()
    except FetchError as exc:
        if exc.code in codes:
            return None
        raise


@collector("iam.account_summary", phases=AUDIT, scope="global", reads=("iam:GetAccountSummary",))
def account_summary(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The account's IAM summary: AccountMFAEnabled and AccountAccessKeysPresent (root)."""
    summary = ctx.fetch.call("iam", "global", "get_account_summary").get("SummaryMap", {})
    yield Found(id=ctx.env.account_id, data={"SummaryMap": summary})


@collector(
    "iam.password_policy", phases=AUDIT, scope="global", reads=("iam:GetAccountPasswordPolicy",)
)
def password_policy(ctx: CollectContext, region: str) -> Iterable[Found]:
    """The account password policy (`PasswordPolicy` None when the account has none)."""
    answer = absent_on(
        lambda: ctx.fetch.call("iam", "global", "get_account_password_policy"), "NoSuchEntity"
    )
    policy = answer.get("PasswordPolicy") if answer is not None else None
    yield Found(id=ctx.env.account_id, data={"PasswordPolicy": policy})


@collector("iam.users", phases=AUDIT, scope="global", reads=("iam:ListAccessKeys", "iam:ListUsers"))
def users(ctx: CollectContext, region: str) -> Iterable[Found]:
    """IAM users with their access keys (AccessKeyMetadata: id, status, creation date)."""
    listed = ctx.fetch.pages("iam", "global", "list_users", "Users")

    def describe(user: dict[str, Any]) -> Found:
        name = str(user["UserName"])
        # ListUsers leaves tags out: unknown (None), so a tag scope never drops a user.
        tags = tag_dict(user["Tags"]) if "Tags" in user else None
        found = Found(id=name, arn=user.get("Arn"), data=dict(user), tags=tags)
        found.enrich(
            "AccessKeys",
            lambda: ctx.fetch.pages(
                "iam", "global", "list_access_keys", "AccessKeyMetadata", UserName=name
            ),
        )
        return found

    return ctx.each(listed, describe)


COLLECTORS = (account_summary, password_policy, users)
