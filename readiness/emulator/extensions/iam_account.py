"""IAM account facts moto cannot be told through the API:

- the root user's MFA and access keys: moto's GetAccountSummary reports
  AccountMFAEnabled 0 and AccountAccessKeysPresent 0 whatever happens (root has no API
  for either); control `iam-root-account` {"mfa": bool, "access_keys": bool} sets them;
- the age of an access key: moto dates every key "now"; control `iam-access-key-created`
  {"user": name, "access_key_id": id, "days_ago": n} moves a key's creation date back.

Both are cleared with moto's reset (the IAM backend is made anew).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from readiness.emulator.registry import Registry

ACCOUNT = "123456789012"
PARTITION = "aws"


def _backend(payload: dict[str, Any]) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[str(payload.get("account", ACCOUNT))][PARTITION]


def set_root_account(payload: dict[str, Any]) -> dict[str, int]:
    summary = _backend(payload).account_summary
    if "mfa" in payload:
        summary._account_mfa_enabled = 1 if payload["mfa"] else 0
    if "access_keys" in payload:
        summary._account_access_keys_present = 1 if payload["access_keys"] else 0
    return {
        "AccountMFAEnabled": summary._account_mfa_enabled,
        "AccountAccessKeysPresent": summary._account_access_keys_present,
    }


def backdate_access_key(payload: dict[str, Any]) -> str:
    days = int(payload["days_ago"])
    if days < 0:
        raise ValueError("days_ago must not be negative")
    user = _backend(payload).get_user(str(payload["user"]))
    wanted = str(payload["access_key_id"])
    for key in user.access_keys:
        if key.access_key_id == wanted:
            key.create_date = key.create_date - dt.timedelta(days=days)
            return str(key.create_date)
    raise KeyError(f"user {payload['user']} has no access key {wanted}")


def install(registry: Registry) -> None:
    registry.control("iam-root-account", set_root_account)
    registry.control("iam-access-key-created", backdate_access_key)
