"""IAM: the root user (MFA, no access keys), the account password policy, and the age
of the IAM users' active access keys."""

import datetime as dt
from typing import Any

import pytest

from readiness.config import Thresholds
from readiness.inventory.model import NotEvaluated, Resource, Snapshot

pytestmark = [pytest.mark.audit]
IAM_DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide"
CIS = "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html"


def summary_value(resource: Resource, key: str) -> int:
    summary = resource.get("SummaryMap") or {}
    if key not in summary:
        raise NotEvaluated(f"{resource.label}: GetAccountSummary did not report {key}")
    return int(summary[key])


@pytest.mark.critical
@pytest.mark.check(
    id="iam-root-mfa",
    title="The root user has MFA enabled",
    category="security",
    risk="The root user can do anything in the account, including closing it; with only a "
    "password, one phished or reused password hands over the whole account.",
    remediation="Sign in as root, open Security credentials and assign an MFA device "
    "(a hardware key or passkey is best); keep it in a safe with a break-glass procedure.",
    references=[f"{IAM_DOCS}/enable-virt-mfa-for-root.html", f"{CIS}#iam-9"],
)
@pytest.mark.resources("iam.account_summary")
def test_iam_root_mfa(resource: Resource) -> None:
    enabled = summary_value(resource, "AccountMFAEnabled")
    assert enabled == 1, f"account {resource.label}: the root user has no MFA device"


@pytest.mark.critical
@pytest.mark.check(
    id="iam-root-no-access-keys",
    title="The root user has no access keys",
    category="security",
    risk="A root access key is a long-lived credential with unlimited power that cannot be "
    "restricted by any policy; a leaked key means a lost account.",
    remediation="Sign in as root, open Security credentials and delete the access keys; "
    "use IAM roles (or IAM Identity Center) for every automated and human task.",
    references=[f"{IAM_DOCS}/id_root-user_manage_delete-key.html", f"{CIS}#iam-4"],
)
@pytest.mark.resources("iam.account_summary")
def test_iam_root_no_access_keys(resource: Resource) -> None:
    present = summary_value(resource, "AccountAccessKeysPresent")
    assert present == 0, f"account {resource.label}: the root user has access keys"


@pytest.mark.warning
@pytest.mark.check(
    id="iam-password-policy",
    title="The account password policy requires long passwords with all character classes",
    category="security",
    risk="Without a policy IAM users may choose short or simple passwords, which fall to "
    "guessing and credential stuffing.",
    remediation="aws iam update-account-password-policy --minimum-password-length 14 "
    "--require-symbols --require-numbers --require-uppercase-characters "
    "--require-lowercase-characters --password-reuse-prevention 24  "
    "(terraform: aws_iam_account_password_policy)",
    references=[f"{IAM_DOCS}/id_credentials_passwords_account-policy.html", f"{CIS}#iam-15"],
)
@pytest.mark.resources("iam.password_policy")
def test_iam_password_policy(resource: Resource, thresholds: Thresholds) -> None:
    policy: dict[str, Any] | None = resource.get("PasswordPolicy")
    assert policy is not None, f"account {resource.label} has no IAM password policy"
    problems = []
    length = int(policy.get("MinimumPasswordLength") or 0)
    if length < thresholds.min_password_length:
        problems.append(
            f"minimum length {length} (expected at least {thresholds.min_password_length})"
        )
    for key, what in (
        ("RequireSymbols", "symbols"),
        ("RequireNumbers", "numbers"),
        ("RequireUppercaseCharacters", "upper-case letters"),
        ("RequireLowercaseCharacters", "lower-case letters"),
    ):
        if policy.get(key) is not True:
            problems.append(f"does not require {what}")
    assert not problems, f"account {resource.label}: the password policy " + "; ".join(problems)


def key_age_days(key: dict[str, Any], now: dt.datetime) -> float:
    created = dt.datetime.fromisoformat(str(key["CreateDate"]).replace("Z", "+00:00"))
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return (now - created).total_seconds() / 86400


@pytest.mark.warning
@pytest.mark.check(
    id="iam-access-key-age",
    title="No active IAM user access key is older than the configured age",
    category="security",
    risk="A long-lived key has had time to end up in laptops, CI logs and old repositories; "
    "the older it is, the likelier it has leaked without anyone noticing.",
    remediation="Create a new key, move its users to it, deactivate and then delete the old "
    "one (aws iam update-access-key --status Inactive, then delete-access-key); better, "
    "replace user keys with roles.",
    references=[f"{IAM_DOCS}/id_credentials_access-keys.html#rotating_access_keys_console"],
)
@pytest.mark.resources("iam.users")
def test_iam_access_key_age(
    resource: Resource, thresholds: Thresholds, inventory: Snapshot
) -> None:
    keys = resource.need("AccessKeys") or []
    now = dt.datetime.fromisoformat(inventory.taken_at)
    limit = thresholds.access_key_max_age_days
    old = []
    for key in keys:
        if key.get("Status") != "Active":
            continue
        if not key.get("CreateDate"):
            raise NotEvaluated(f"{resource.label}: key {key.get('AccessKeyId')} has no date")
        age = key_age_days(key, now)
        if age > limit:
            old.append(f"{key.get('AccessKeyId')} ({int(age)} days)")
    assert not old, (
        f"user {resource.label} has active access keys older than {limit} days: " + ", ".join(old)
    )
