"""The emulator lets a seed set the root user's MFA and access keys, and date an access
key back (moto reports neither)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from readiness.emulator import EmulatorProcess
from readiness.emulator.control import ControlError, EmulatorControl


@pytest.fixture(scope="module")
def control() -> Iterator[EmulatorControl]:
    with EmulatorProcess.start("empty") as emulator:
        yield EmulatorControl(emulator.endpoint)


def _summary(control: EmulatorControl) -> dict[str, int]:
    summary = control.client("iam").get_account_summary()["SummaryMap"]
    return {k: summary[k] for k in ("AccountMFAEnabled", "AccountAccessKeysPresent")}


def test_root_mfa_and_keys_are_set_and_reset(control: EmulatorControl) -> None:
    assert _summary(control) == {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0}
    control.call("iam-root-account", mfa=True)
    assert _summary(control) == {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}
    control.call("iam-root-account", access_keys=True)
    assert _summary(control) == {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1}
    control.call("iam-root-account", mfa=False, access_keys=False)
    assert _summary(control) == {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0}
    control.call("iam-root-account", mfa=True)
    control.reset()
    assert _summary(control) == {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0}


def test_access_key_is_dated_back(control: EmulatorControl) -> None:
    iam = control.client("iam")
    iam.create_user(UserName="old-keys")
    key = iam.create_access_key(UserName="old-keys")["AccessKey"]["AccessKeyId"]
    fresh = iam.create_access_key(UserName="old-keys")["AccessKey"]["AccessKeyId"]
    control.call("iam-access-key-created", user="old-keys", access_key_id=key, days_ago=200)
    listed = {
        k["AccessKeyId"]: k["CreateDate"]
        for k in iam.list_access_keys(UserName="old-keys")["AccessKeyMetadata"]
    }
    now = dt.datetime.now(dt.UTC)
    assert 199 <= (now - listed[key]).days <= 200
    assert (now - listed[fresh]).days == 0
    with pytest.raises(ControlError, match="no access key"):
        control.call("iam-access-key-created", user="old-keys", access_key_id="AKIA0", days_ago=1)


def test_extension_is_installed() -> None:
    from readiness.emulator.extensions import ALL

    assert "iam_account" in {m.__name__.rsplit(".", 1)[-1] for m in ALL}
